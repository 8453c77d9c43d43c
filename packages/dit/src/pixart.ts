import { nn, tf } from '@mige/core';
import { MIGE_XL_2, type DitConfig } from './config.js';
import { ConditionalDiT, type DitBlock, type DitFinalLayer, type DitOptions } from './conditional-dit.js';
import { normalParamInit, setParam, zeroInit } from './init.js';
import { CrossAttention, Mlp, modulate, norm, SelfAttention } from './layers.js';
import { Slots } from './slots.js';

/**
 * MIGE's diffusion transformer: PixArt-α (adaLN-single) whose patch embedding takes the noisy
 * latent and the conditional input stacked on channels. Attribute names are PixArt's, so the
 * state dict is the official checkpoint's (`blocks.3.cross_attn.kv_linear.weight`, ...).
 */

/** PixArtBlock: modulated self-attention, cross-attention to y, modulated MLP, one `scale_shift_table`. */
export class PixArtBlock extends nn.Module implements DitBlock {
  readonly attn: SelfAttention;
  readonly crossAttn: CrossAttention;
  readonly mlp: Mlp;
  /** [6, D]: shift/scale/gate for attention and MLP, added to the shared t_block output. */
  readonly scaleShiftTable: tf.Variable;

  constructor(readonly hiddenSize: number, numHeads: number, mlpHidden: number) {
    super();
    this.attn = this.module('attn', new SelfAttention(hiddenSize, numHeads));
    this.crossAttn = this.module('cross_attn', new CrossAttention(hiddenSize, numHeads));
    this.mlp = this.module('mlp', new Mlp(hiddenSize, mlpHidden, hiddenSize));
    this.scaleShiftTable = this.param('scale_shift_table', nn.zerosInit([6, hiddenSize]));
  }

  /** x [B, N, D], y [B, L, D], t0 [B, 6D], crossBias [B·heads, 1, L] → [B, N, D] */
  forward(x: tf.Tensor3D, y: tf.Tensor3D, t0: tf.Tensor2D, crossBias: tf.Tensor3D): tf.Tensor3D {
    const [b, , d] = x.shape;
    const mod = tf.add(this.scaleShiftTable, tf.reshape(t0, [b, 6, d]));
    const [shiftMsa, scaleMsa, gateMsa, shiftMlp, scaleMlp, gateMlp] = tf.split(mod, 6, 1) as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
    let h = tf.add(x, tf.mul(gateMsa, this.attn.forward(modulate(norm(x), shiftMsa, scaleMsa) as tf.Tensor3D)));
    // Cross-attention has neither norm nor gate in PixArt.
    h = tf.add(h, this.crossAttn.forward(h as tf.Tensor3D, y, crossBias));
    h = tf.add(h, tf.mul(gateMlp, this.mlp.forward(modulate(norm(h), shiftMlp, scaleMlp))));
    return h as tf.Tensor3D;
  }
}

/** T2IFinalLayer: shift/scale from `scale_shift_table` + t (not t0), LayerNorm, `linear`. */
export class T2IFinalLayer extends nn.Module implements DitFinalLayer {
  readonly linear: nn.Linear;
  /** [2, D]: shift, scale. */
  readonly scaleShiftTable: tf.Variable;

  constructor(hiddenSize: number, patchSize: number, outChannels: number) {
    super();
    this.linear = this.module('linear', new nn.Linear(hiddenSize, patchSize * patchSize * outChannels));
    this.scaleShiftTable = this.param('scale_shift_table', nn.zerosInit([2, hiddenSize]));
  }

  /** x [B, N, D], t [B, D] → [B, N, p·p·outChannels] */
  forward(x: tf.Tensor3D, t: tf.Tensor2D): tf.Tensor3D {
    const [b, , d] = x.shape;
    const [shift, scale] = tf.split(tf.add(this.scaleShiftTable, tf.reshape(t, [b, 1, d])), 2, 1) as [tf.Tensor, tf.Tensor];
    return this.linear.forward(modulate(norm(x), shift, scale)) as tf.Tensor3D;
  }
}

/** The whole PixArt-α DiT with MIGE's conditional input channels. */
export class PixArtDiT extends ConditionalDiT {
  /** `t_block` = Sequential(SiLU, Linear(D, 6D)): adaLN-single, shared by all blocks. */
  readonly tBlock: nn.Linear;
  readonly blocks: nn.ModuleList<PixArtBlock>;
  readonly finalLayer: T2IFinalLayer;

  constructor(config: Readonly<DitConfig> = MIGE_XL_2, options: DitOptions = {}) {
    super(config);
    const d = config.hiddenSize;
    this.tBlock = this.module('t_block', new Slots()).add(1, new nn.Linear(d, 6 * d));
    this.blocks = this.module(
      'blocks',
      new nn.ModuleList(Array.from({ length: config.depth }, () => new PixArtBlock(d, config.numHeads, this.sizes.mlpHidden))),
    );
    this.finalLayer = this.module('final_layer', new T2IFinalLayer(d, config.patchSize, this.sizes.outChannels));
    this.finishConstruction(options);
  }

  protected blockCondition(t: tf.Tensor2D): tf.Tensor2D {
    return this.tBlock.forward(nn.silu(t)) as tf.Tensor2D;
  }

  protected initializeOwnWeights(): void {
    const d = this.config.hiddenSize;
    normalParamInit(this.tBlock.weight, 0.02);
    for (const block of this.blocks) {
      setParam(block.scaleShiftTable, nn.normalInit([6, d], 1 / Math.sqrt(d)));
      // Zero cross-attention output: each block starts without the caption's influence.
      zeroInit(block.crossAttn.proj.weight);
      zeroInit(block.crossAttn.proj.bias as tf.Variable);
    }
    setParam(this.finalLayer.scaleShiftTable, nn.normalInit([2, d], 1 / Math.sqrt(d)));
    zeroInit(this.finalLayer.linear.weight);
    zeroInit(this.finalLayer.linear.bias as tf.Variable);
  }
}
