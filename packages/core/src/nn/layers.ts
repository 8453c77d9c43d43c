import * as tf from '@tensorflow/tfjs-core';
import { MigeInputError } from '../errors.js';
import { Module } from './module.js';
import { normalInit, onesInit, uniformInit, getInitRng, zerosInit } from './init.js';
import { customOp, geluErf, geluTanh, layerNorm, linear, linearPretransposed, silu } from './ops.js';
import type { Rng } from '../rng.js';

/**
 * nn.Linear: y = x·Wᵀ + b, weight [out, in]. Initialised as PyTorch does. Outside gradient
 * recording it reuses one transposed copy of the weight until the weight changes, which saves
 * the transpose and lets the wasm matmul reuse its packed copy of the operand. That costs two
 * extra copies of the weight in memory: set `cacheTransposed = false` (or use
 * `setTransposedWeightCache`) for models near the wasm heap's 4 GB.
 */
export class Linear extends Module {
  readonly weight: tf.Variable;
  readonly bias?: tf.Variable;
  /** Keep the transposed weight between inference calls. */
  cacheTransposed = true;
  private transposed?: { source: object; wt: tf.Tensor2D };

  constructor(readonly inFeatures: number, readonly outFeatures: number, bias = true) {
    super();
    const bound = 1 / Math.sqrt(inFeatures);
    this.weight = this.param('weight', uniformInit([outFeatures, inFeatures], bound));
    if (bias) this.bias = this.param('bias', uniformInit([outFeatures], bound));
  }

  /** x [..., in] → [..., out] */
  forward(x: tf.Tensor): tf.Tensor {
    if (x.shape[x.rank - 1] !== this.inFeatures) {
      throw new MigeInputError(`input last dim is ${x.shape[x.rank - 1]}, expected ${this.inFeatures}`, 'Linear');
    }
    if (tf.engine().isTapeOn()) return linear(x, this.weight, this.bias);
    if (!this.cacheTransposed) {
      this.dropTransposed();
      return tf.tidy(() => linearPretransposed(x, tf.transpose(this.weight as tf.Tensor2D), this.bias));
    }
    return linearPretransposed(x, this.weightTransposed(), this.bias);
  }

  private dropTransposed(): void {
    this.transposed?.wt.dispose();
    this.transposed = undefined;
  }

  private weightTransposed(): tf.Tensor2D {
    // A Variable's dataId changes on every assign (optimiser step, loadStateDict).
    const source = this.weight.dataId;
    if (this.transposed?.source !== source) {
      this.transposed?.wt.dispose();
      this.transposed = { source, wt: tf.keep(tf.transpose(this.weight as tf.Tensor2D)) };
    }
    return this.transposed.wt;
  }

  override dispose(): void {
    this.dropTransposed();
    super.dispose();
  }
}

/** Turns the inference-time transposed-weight cache of every Linear in `m` on or off. */
export function setTransposedWeightCache(m: Module, enabled: boolean): void {
  if (m instanceof Linear) m.cacheTransposed = enabled;
  for (const [, child] of m.namedChildren()) setTransposedWeightCache(child, enabled);
}

/** nn.LayerNorm over the last dim, with or without the affine weight and bias. */
export class LayerNorm extends Module {
  readonly weight?: tf.Variable;
  readonly bias?: tf.Variable;
  constructor(
    readonly normalizedShape: number,
    readonly eps = 1e-5,
    elementwiseAffine = true,
    bias = true,
  ) {
    super();
    if (elementwiseAffine) {
      this.weight = this.param('weight', onesInit([normalizedShape]));
      if (bias) this.bias = this.param('bias', zerosInit([normalizedShape]));
    }
  }
  forward(x: tf.Tensor): tf.Tensor {
    return layerNorm(x, this.eps, this.weight, this.bias);
  }
}

/** nn.GroupNorm on [B, C, ...]: statistics per (sample, group), affine per channel. */
export class GroupNorm extends Module {
  readonly weight?: tf.Variable;
  readonly bias?: tf.Variable;
  constructor(readonly numGroups: number, readonly numChannels: number, readonly eps = 1e-5, affine = true) {
    super();
    if (numChannels % numGroups !== 0) {
      throw new MigeInputError(`num_channels ${numChannels} is not divisible by num_groups ${numGroups}`, 'GroupNorm');
    }
    if (affine) {
      this.weight = this.param('weight', onesInit([numChannels]));
      this.bias = this.param('bias', zerosInit([numChannels]));
    }
  }
  forward(x: tf.Tensor): tf.Tensor {
    const [b, c] = x.shape as [number, number];
    if (c !== this.numChannels) throw new MigeInputError(`input has ${c} channels, expected ${this.numChannels}`, 'GroupNorm');
    const g = tf.reshape(x, [b, this.numGroups, -1]);
    const { mean, variance } = tf.moments(g, 2, true);
    let y = tf.reshape(tf.mul(tf.sub(g, mean), tf.rsqrt(tf.add(variance, this.eps))), x.shape);
    const affineShape = [1, c, ...x.shape.slice(2).map(() => 1)];
    if (this.weight) y = tf.mul(y, tf.reshape(this.weight, affineShape));
    if (this.bias) y = tf.add(y, tf.reshape(this.bias, affineShape));
    return y;
  }

  /**
   * The same normalisation on channels-last tensors [B, ..., C]. Channel means come from one
   * average pool over all positions (a single fast pass on wasm, where a reduction over a
   * non-innermost axis would transpose the whole input first, and a ones·x product would repack
   * x). The variance is taken around the mean (two passes), as PyTorch does, so large means do
   * not cancel the precision away. Intermediates are freed as soon as they are used, which keeps
   * the peak at about three input-sized tensors.
   */
  forwardNHWC(x: tf.Tensor): tf.Tensor {
    const c = x.shape[x.rank - 1] as number;
    if (x.rank < 2 || c !== this.numChannels) {
      throw new MigeInputError(`input has shape [${x.shape}], expected [B, ..., ${this.numChannels}]`, 'GroupNorm.forwardNHWC');
    }
    const b = x.shape[0] as number;
    const s = x.size / (b * c);
    return tf.tidy(() => {
      const x3 = tf.reshape(x, [b, s, c]);
      const d = tf.sub(x3, this.groupMeanNHWC(x3));
      const sq = tf.square(d);
      const variance = this.groupMeanNHWC(sq);
      sq.dispose();
      let scale = tf.rsqrt(tf.add(variance, this.eps));
      if (this.weight) scale = tf.mul(scale, this.weight);
      const scaled = tf.mul(d, scale);
      d.dispose();
      if (!this.bias) return tf.reshape(scaled, x.shape);
      const y = tf.add(scaled, this.bias);
      scaled.dispose();
      return tf.reshape(y, x.shape);
    });
  }

  /** x [B, S, C] → each channel's group mean over S and the group's channels, [B, 1, C]. */
  private groupMeanNHWC(x: tf.Tensor): tf.Tensor {
    const [b, s, c] = x.shape as [number, number, number];
    const g = this.numGroups;
    const channelMeans = meanOverPositions(tf.reshape(x, [b, s, 1, c]) as tf.Tensor4D); // [B, 1, 1, C]
    const perGroup = tf.mean(tf.reshape(channelMeans, [b, g, c / g]), 2, true); // [B, G, 1]
    return tf.reshape(tf.broadcastTo(perGroup, [b, g, c / g]), [b, 1, c]);
  }
}

/**
 * x [B, S, 1, C] → the mean over S, [B, 1, 1, C]: avgPool is the fast forward on wasm, but its
 * stock gradient (AvgPoolGrad) takes seconds there, so the gradient is the broadcast dy / S.
 */
const meanOverPositions = customOp<tf.Tensor4D>(([x]) => {
  const x4 = x as tf.Tensor4D;
  const [b, s, , c] = x4.shape;
  return {
    value: tf.avgPool(x4, [s, 1], 1, 'valid'),
    gradFunc: (dy) => [tf.broadcastTo(tf.div(dy, s), [b, s, 1, c])],
  };
});

/** nn.Embedding: ids [...] → [..., dim]. */
export class Embedding extends Module {
  readonly weight: tf.Variable;
  constructor(readonly numEmbeddings: number, readonly embeddingDim: number) {
    super();
    this.weight = this.param('weight', normalInit([numEmbeddings, embeddingDim]));
  }
  forward(ids: tf.Tensor): tf.Tensor {
    const flat = tf.reshape(ids.dtype === 'int32' ? ids : tf.cast(ids, 'int32'), [-1]);
    return tf.reshape(tf.gather(this.weight, flat), [...ids.shape, this.embeddingDim]);
  }
}

/** nn.GELU, exact (`'none'`, PyTorch's default) or `'tanh'`. */
export class GELU extends Module {
  constructor(readonly approximate: 'none' | 'tanh' = 'none') {
    super();
  }
  forward(x: tf.Tensor): tf.Tensor {
    return this.approximate === 'tanh' ? geluTanh(x) : geluErf(x);
  }
}

export class SiLU extends Module {
  forward(x: tf.Tensor): tf.Tensor {
    return silu(x);
  }
}

/** nn.Dropout with a seeded mask, so training runs are reproducible. Identity in eval mode. */
export class Dropout extends Module {
  constructor(readonly p = 0.5, private readonly rng: Rng = getInitRng().fork('dropout')) {
    super();
    if (!(p >= 0 && p < 1)) throw new MigeInputError(`dropout probability ${p} is not in [0, 1)`, 'Dropout');
  }
  forward(x: tf.Tensor): tf.Tensor {
    if (!this.training || this.p === 0) return x;
    const keep = tf.cast(tf.greaterEqual(this.rng.rand(x.shape), this.p), x.dtype);
    return tf.mul(x, tf.mul(keep, 1 / (1 - this.p)));
  }
}
