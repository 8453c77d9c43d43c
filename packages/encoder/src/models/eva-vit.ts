import { checkShapes, MigeInputError, nn, tf, type ImageBatch, type TokenSequence } from '@mige/core';
import { mergeHeads, splitHeads, type TraceFn } from './heads.js';
import { evaMlpHidden, type EvaViTConfig } from './eva-vit-config.js';

/** LAVIS eva_vit with its attribute names (`visual_encoder.*` in a MIGE / BLIP-2 checkpoint). */

/** `proj`: Conv2d(3 → D, kernel = stride = patch), patches in row-major order. */
class PatchEmbed extends nn.Module {
  readonly proj: nn.Conv2d;
  constructor(patch: number, dim: number) {
    super();
    this.proj = this.module('proj', new nn.Conv2d(3, dim, patch, { stride: patch }));
  }
  /** images [B, 3, H, W] → [B, (H/p)·(W/p), D] */
  forward(x: ImageBatch): TokenSequence {
    const y = this.proj.forwardNHWC(tf.transpose(x, [0, 2, 3, 1]));
    const [b, gh, gw, d] = y.shape;
    return tf.reshape(y, [b, gh * gw, d]);
  }
}

/** Attention: `qkv` without bias, then q_bias / 0 / v_bias added; q scaled by head_dim^-0.5; `proj`. */
class EvaAttention extends nn.Module {
  readonly qkv: nn.Linear;
  readonly qBias: tf.Variable;
  readonly vBias: tf.Variable;
  readonly proj: nn.Linear;
  constructor(readonly dim: number, readonly numHeads: number) {
    super();
    this.qkv = this.module('qkv', new nn.Linear(dim, 3 * dim, false));
    this.qBias = this.param('q_bias', nn.zerosInit([dim]));
    this.vBias = this.param('v_bias', nn.zerosInit([dim]));
    this.proj = this.module('proj', new nn.Linear(dim, dim));
  }
  /** x [B, N, D] → [B, N, D] */
  forward(x: tf.Tensor3D): tf.Tensor3D {
    const h = this.numHeads;
    // The key bias is fixed at zero in EVA; only q and v have learned biases.
    const bias = tf.concat([this.qBias, tf.zeros([this.dim]), this.vBias]);
    const qkv = tf.add(this.qkv.forward(x), bias);
    const [q, k, v] = tf.split(qkv, 3, -1).map((t) => splitHeads(t, h)) as [tf.Tensor3D, tf.Tensor3D, tf.Tensor3D];
    const out = nn.attention(q, k, v, 1 / Math.sqrt(this.dim / h));
    return this.proj.forward(mergeHeads(out, h)) as tf.Tensor3D;
  }
}

/** `fc1` → exact erf GELU → `fc2`. */
class EvaMlp extends nn.Module {
  readonly fc1: nn.Linear;
  readonly fc2: nn.Linear;
  constructor(dim: number, hidden: number) {
    super();
    this.fc1 = this.module('fc1', new nn.Linear(dim, hidden));
    this.fc2 = this.module('fc2', new nn.Linear(hidden, dim));
  }
  forward(x: tf.Tensor): tf.Tensor {
    return this.fc2.forward(nn.geluErf(this.fc1.forward(x)));
  }
}

/** Pre-norm block: x += attn(norm1(x)); x += mlp(norm2(x)); LayerNorm eps 1e-6. */
class EvaBlock extends nn.Module {
  readonly norm1: nn.LayerNorm;
  readonly attn: EvaAttention;
  readonly norm2: nn.LayerNorm;
  readonly mlp: EvaMlp;
  constructor(dim: number, heads: number, hidden: number) {
    super();
    this.norm1 = this.module('norm1', new nn.LayerNorm(dim, 1e-6));
    this.attn = this.module('attn', new EvaAttention(dim, heads));
    this.norm2 = this.module('norm2', new nn.LayerNorm(dim, 1e-6));
    this.mlp = this.module('mlp', new EvaMlp(dim, hidden));
  }
  forward(x: tf.Tensor3D): tf.Tensor3D {
    const y = tf.add(x, this.attn.forward(this.norm1.forward(x) as tf.Tensor3D));
    return tf.add(y, this.mlp.forward(this.norm2.forward(y)));
  }
}

export interface VisionForwardOptions {
  /** Receives `patch_embed_out` [B, N, D], `block_out.i` [B, N+1, D], `vit_out`, `ln_vision_out`. */
  trace?: TraceFn;
}

/**
 * LAVIS eva_vit.VisionTransformer as BLIP-2 uses it: patch embedding, `cls_token`, absolute
 * `pos_embed`, `blocks`, no final norm and no head. Output [B, 1 + N, D] (cls first). Built
 * frozen (no trainable parameters), as MIGE uses it.
 */
export class EvaViT extends nn.Module {
  readonly patchEmbed: PatchEmbed;
  readonly clsToken: tf.Variable;
  readonly posEmbed: tf.Variable;
  readonly blocks: nn.ModuleList<EvaBlock>;
  readonly numPatches: number;

  constructor(readonly config: EvaViTConfig) {
    super();
    const c = config;
    if (c.imgSize % c.patchSize !== 0) throw new MigeInputError(`img_size ${c.imgSize} is not a multiple of patch_size ${c.patchSize}`, 'EvaViT');
    if (c.embedDim % c.numHeads !== 0) throw new MigeInputError(`embed_dim ${c.embedDim} is not divisible by num_heads ${c.numHeads}`, 'EvaViT');
    this.numPatches = (c.imgSize / c.patchSize) ** 2;
    this.patchEmbed = this.module('patch_embed', new PatchEmbed(c.patchSize, c.embedDim));
    // EVA initialises both with trunc_normal(std 0.02).
    this.clsToken = this.param('cls_token', nn.normalInit([1, 1, c.embedDim], 0.02));
    this.posEmbed = this.param('pos_embed', nn.normalInit([1, this.numPatches + 1, c.embedDim], 0.02));
    const hidden = evaMlpHidden(c);
    this.blocks = this.module('blocks', new nn.ModuleList(Array.from({ length: c.depth }, () => new EvaBlock(c.embedDim, c.numHeads, hidden))));
    // MIGE (like BLIP-2) freezes the ViT and keeps it in eval mode; requiresGrad(true) fine-tunes it.
    this.requiresGrad(false).eval();
  }

  /** images [B, 3, imgSize, imgSize] (already normalised) → [B, 1 + N, D] */
  forward(images: ImageBatch, options: VisionForwardOptions = {}): TokenSequence {
    const s = this.config.imgSize;
    const { B } = checkShapes('EvaViT.forward', { images: [images, ['B', 3, s, s]] });
    const trace = options.trace ?? (() => undefined);
    return tf.tidy(() => {
      const patches = this.patchEmbed.forward(images);
      trace('patch_embed_out', patches);
      const cls = tf.broadcastTo(this.clsToken, [B as number, 1, this.config.embedDim]);
      let h = tf.add(tf.concat([cls, patches], 1), this.posEmbed) as tf.Tensor3D;
      const recording = tf.engine().isTapeOn();
      this.blocks.items.forEach((block, i) => {
        const prev = h;
        h = tf.tidy(() => block.forward(prev));
        trace(`block_out.${i}`, h);
        if (!recording) prev.dispose();
      });
      return h;
    });
  }
}
