import { nn, tf } from '@mige/core';
import { DIT_ADALN_ZERO_TINY, type DitConfig } from './config.js';
import { ConditionalDiT, type DitBlock, type DitFinalLayer, type DitOptions } from './conditional-dit.js';
import { zeroInit } from './init.js';
import { CrossAttention, Mlp, modulate, norm, SelfAttention } from './layers.js';
import { Slots } from './slots.js';

/**
 * An alternative backbone behind the same interface: facebookresearch/DiT's adaLN-Zero blocks
 * (each block regresses its own shift/scale/gate from t through `adaLN_modulation`, zero-initialised
 * so every block starts as the identity) with PixArt's cross-attention to y added after
 * self-attention. Embedders, inputs and outputs are the shared ones.
 */

/** SiLU → Linear(D, n·D), DiT's `adaLN_modulation` (`.1` is the Linear). */
function adaLnModulation(owner: Slots, hiddenSize: number, chunks: number): nn.Linear {
  return owner.add(1, new nn.Linear(hiddenSize, chunks * hiddenSize));
}

/** (c [B, D]) → n tensors [B, 1, D] in DiT's chunk order. */
function modulationChunks(linear: nn.Linear, c: tf.Tensor2D, chunks: number): tf.Tensor[] {
  const [b, d] = c.shape;
  return tf.split(tf.reshape(linear.forward(nn.silu(c)), [b, chunks, d]), chunks, 1);
}

/** DiTBlock with adaptive LayerNorm-Zero conditioning, plus cross-attention to the condition tokens. */
export class AdaLnZeroBlock extends nn.Module implements DitBlock {
  readonly attn: SelfAttention;
  readonly crossAttn: CrossAttention;
  readonly mlp: Mlp;
  readonly adaLnModulation: nn.Linear;

  constructor(readonly hiddenSize: number, numHeads: number, mlpHidden: number) {
    super();
    this.attn = this.module('attn', new SelfAttention(hiddenSize, numHeads));
    this.crossAttn = this.module('cross_attn', new CrossAttention(hiddenSize, numHeads));
    this.mlp = this.module('mlp', new Mlp(hiddenSize, mlpHidden, hiddenSize));
    this.adaLnModulation = adaLnModulation(this.module('adaLN_modulation', new Slots()), hiddenSize, 6);
  }

  /** x [B, N, D], y [B, L, D], t [B, D], crossBias [B·heads, 1, L] → [B, N, D] */
  forward(x: tf.Tensor3D, y: tf.Tensor3D, t: tf.Tensor2D, crossBias: tf.Tensor3D): tf.Tensor3D {
    const [shiftMsa, scaleMsa, gateMsa, shiftMlp, scaleMlp, gateMlp] = modulationChunks(this.adaLnModulation, t, 6) as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
    let h = tf.add(x, tf.mul(gateMsa, this.attn.forward(modulate(norm(x), shiftMsa, scaleMsa) as tf.Tensor3D)));
    h = tf.add(h, this.crossAttn.forward(h as tf.Tensor3D, y, crossBias));
    h = tf.add(h, tf.mul(gateMlp, this.mlp.forward(modulate(norm(h), shiftMlp, scaleMlp))));
    return h as tf.Tensor3D;
  }
}

/** DiT's FinalLayer: shift/scale regressed from t, LayerNorm, `linear`. */
export class AdaLnFinalLayer extends nn.Module implements DitFinalLayer {
  readonly linear: nn.Linear;
  readonly adaLnModulation: nn.Linear;

  constructor(hiddenSize: number, patchSize: number, outChannels: number) {
    super();
    this.linear = this.module('linear', new nn.Linear(hiddenSize, patchSize * patchSize * outChannels));
    this.adaLnModulation = adaLnModulation(this.module('adaLN_modulation', new Slots()), hiddenSize, 2);
  }

  /** x [B, N, D], t [B, D] → [B, N, p·p·outChannels] */
  forward(x: tf.Tensor3D, t: tf.Tensor2D): tf.Tensor3D {
    const [shift, scale] = modulationChunks(this.adaLnModulation, t, 2) as [tf.Tensor, tf.Tensor];
    return this.linear.forward(modulate(norm(x), shift, scale)) as tf.Tensor3D;
  }
}

/** The DiT-style backbone: shared embedders, adaLN-Zero blocks conditioned on t directly. */
export class AdaLnZeroDiT extends ConditionalDiT {
  readonly blocks: nn.ModuleList<AdaLnZeroBlock>;
  readonly finalLayer: AdaLnFinalLayer;

  constructor(config: Readonly<DitConfig> = DIT_ADALN_ZERO_TINY, options: DitOptions = {}) {
    super(config);
    const d = config.hiddenSize;
    this.blocks = this.module(
      'blocks',
      new nn.ModuleList(Array.from({ length: config.depth }, () => new AdaLnZeroBlock(d, config.numHeads, this.sizes.mlpHidden))),
    );
    this.finalLayer = this.module('final_layer', new AdaLnFinalLayer(d, config.patchSize, this.sizes.outChannels));
    this.finishConstruction(options);
  }

  protected blockCondition(t: tf.Tensor2D): tf.Tensor2D {
    return t;
  }

  /** DiT's initialize_weights: zero the adaLN modulations and the output layer. */
  protected initializeOwnWeights(): void {
    const zeroLinear = (l: nn.Linear) => {
      zeroInit(l.weight);
      if (l.bias) zeroInit(l.bias);
    };
    for (const block of this.blocks) {
      zeroLinear(block.adaLnModulation);
      zeroLinear(block.crossAttn.proj);
    }
    zeroLinear(this.finalLayer.adaLnModulation);
    zeroLinear(this.finalLayer.linear);
  }
}
