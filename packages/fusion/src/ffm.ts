import { checkShapes, nn, tf, type TokenSequence } from '@mige/core';
import { validateFfmConfig, type FfmConfig } from './config.js';
import { ProjectionMlp } from './projection.js';

/**
 * MIGE's feature fusion module (`diffusion/model/nets/FFM_module.py`, class `FFM`): the Q-Former
 * tokens attend to the reference image's patch-embedded VAE latent.
 *
 *   query = ln_q_1(q_proj_1(clip))            q_proj_1: Linear(kvDim → embedDim), no bias
 *   key   = ln_k_1(k_proj_1(vae))             k_proj_1 / v_proj_1: Linear(vaeDim → embedDim),
 *   value = ln_v_1(v_proj_1(vae))                                  exact GELU, Linear(embedDim → embedDim)
 *   out   = ln_out(clip + mlp(clip_attn(query, key, value)))
 *
 * Parameters carry the reference names, so `FFM.`-stripped MIGE checkpoint keys load as they are.
 */
export class FFM extends nn.Module {
  readonly config: Readonly<FfmConfig>;
  readonly q_proj_1: nn.Linear;
  readonly k_proj_1: ProjectionMlp;
  readonly v_proj_1: ProjectionMlp;
  readonly ln_q_1: nn.LayerNorm;
  readonly ln_k_1: nn.LayerNorm;
  readonly ln_v_1: nn.LayerNorm;
  readonly ln_out: nn.LayerNorm;
  readonly clip_attn: nn.MultiheadAttention;
  readonly mlp: nn.Linear;

  constructor(config: FfmConfig) {
    super();
    validateFfmConfig(config);
    this.config = Object.freeze({ ...config });
    const { embedDim: d, kvDim, vaeDim, numHeads, eps } = config;
    // Registration order follows the reference's __init__, so stateDict() lists keys as torch does.
    this.q_proj_1 = this.module('q_proj_1', new nn.Linear(kvDim, d, false));
    this.k_proj_1 = this.module('k_proj_1', new ProjectionMlp(vaeDim, d));
    this.v_proj_1 = this.module('v_proj_1', new ProjectionMlp(vaeDim, d));
    this.ln_q_1 = this.module('ln_q_1', new nn.LayerNorm(d, eps));
    this.ln_k_1 = this.module('ln_k_1', new nn.LayerNorm(d, eps));
    this.ln_v_1 = this.module('ln_v_1', new nn.LayerNorm(d, eps));
    this.ln_out = this.module('ln_out', new nn.LayerNorm(d, eps));
    // The reference permutes [B, L, D] to [L, B, D] around a seq-first MHA and back: the same
    // function as a batch-first MHA on [B, L, D], without the transposes.
    this.clip_attn = this.module('clip_attn', new nn.MultiheadAttention(d, numHeads, { batchFirst: true }));
    this.mlp = this.module('mlp', new nn.Linear(d, d));
    if (!nn.isInitSkipped()) this.initWeights();
  }

  /**
   * The reference's `_init_weights` as MIGE applies it after building the model: every Linear
   * (out_proj included) N(0, 0.02²) with zero bias (torch's trunc_normal_ cuts at ±2, 100σ away,
   * so a plain normal draw is the same distribution), LayerNorms 1 / 0, the attention's
   * in_proj keeps torch's xavier_uniform / zero bias, and `mlp` is all zeros, so a fresh FFM
   * returns ln_out(clip): fusion starts as a no-op on the Q-Former tokens.
   */
  private initWeights(): void {
    const linears: nn.Linear[] = [
      this.q_proj_1, this.k_proj_1.fc1, this.k_proj_1.fc2, this.v_proj_1.fc1, this.v_proj_1.fc2, this.clip_attn.outProj,
    ];
    for (const l of linears) {
      assignOwned(l.weight, nn.normalInit([l.outFeatures, l.inFeatures], 0.02));
      if (l.bias) assignOwned(l.bias, tf.zeros([l.outFeatures]));
    }
    assignOwned(this.mlp.weight, tf.zeros(this.mlp.weight.shape));
    if (this.mlp.bias) assignOwned(this.mlp.bias, tf.zeros(this.mlp.bias.shape));
  }

  /**
   * clip [B, Q, kvDim] (Q-Former tokens), vae [B, N, vaeDim] (patch-embedder tokens of the
   * reference latent) → [B, Q, embedDim]. Each batch item attends only to its own latent.
   */
  forward(clip: TokenSequence, vae: TokenSequence): TokenSequence {
    const { kvDim, vaeDim } = this.config;
    checkShapes('FFM.forward', { clip: [clip, ['B', 'Q', kvDim]], vae: [vae, ['B', 'N', vaeDim]] });
    return tf.tidy(() => {
      const key = this.ln_k_1.forward(this.k_proj_1.forward(vae));
      const value = this.ln_v_1.forward(this.v_proj_1.forward(vae));
      const query = this.ln_q_1.forward(this.q_proj_1.forward(clip));
      const [attnOut] = this.clip_attn.forward(query, key, value);
      return this.ln_out.forward(tf.add(clip, this.mlp.forward(attnOut))) as TokenSequence;
    });
  }
}

function assignOwned(v: tf.Variable, value: tf.Tensor): void {
  v.assign(value);
  value.dispose();
}
