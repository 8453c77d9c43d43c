import * as tf from '@tensorflow/tfjs-core';
import type { OnnxBuilder } from '../onnx/builder.js';
import { emitGeluErf, emitGeluTanh, emitLayerNormOp, emitSilu } from './ops.onnx.js';
import type { Embedding, GELU, GroupNorm, LayerNorm, Linear, SiLU } from './layers.js';

/** ONNX emitters for layers.ts, each using the module's own weights under `name` (its state-dict path). */

/** Linear: x [..., in] · Wᵀ + b, with Wᵀ [in, out] stored transposed so MatMul needs no Transpose. */
export function emitLinear(g: OnnxBuilder, m: Linear, x: string, name: string): string {
  const wt = tf.tidy(() => tf.transpose(m.weight).dataSync() as Float32Array);
  const y = g.matMul(x, g.weight(`${name}.weight_t`, wt, [m.inFeatures, m.outFeatures]));
  return m.bias ? g.add(y, g.weight(`${name}.bias`, m.bias)) : y;
}

/** LayerNorm over the last axis (LayerNormalization, opset 17). */
export function emitLayerNorm(g: OnnxBuilder, m: LayerNorm, x: string, name: string): string {
  const w = m.weight ? g.weight(`${name}.weight`, m.weight) : undefined;
  const b = m.bias ? g.weight(`${name}.bias`, m.bias) : undefined;
  return emitLayerNormOp(g, x, m.normalizedShape, m.eps, w, b);
}

/**
 * GroupNorm on channels-first x [B, C, ...spatial] (`spatialRank` spatial axes): statistics per
 * (sample, group) with the variance around the mean, as GroupNorm.forward; then the per-channel
 * affine. (ONNX's GroupNormalization needs opset 18 and changed meaning in 21, so it is spelled out.)
 */
export function emitGroupNorm(g: OnnxBuilder, m: GroupNorm, x: string, name: string, spatialRank = 2): string {
  const shape = g.shape(x);
  const grouped = g.reshape(x, [0, m.numGroups, -1]);
  const d = g.sub(grouped, g.reduceMean(grouped, [2]));
  const variance = g.reduceMean(g.mul(d, d), [2]);
  let y = g.reshapeTo(g.div(d, g.sqrt(g.addScalar(variance, m.eps))), shape);
  const affine = [m.numChannels, ...Array<number>(spatialRank).fill(1)];
  if (m.weight) y = g.mul(y, g.weight(`${name}.weight`, m.weight.dataSync() as Float32Array, affine));
  if (m.bias) y = g.add(y, g.weight(`${name}.bias`, m.bias.dataSync() as Float32Array, affine));
  return y;
}

/** Embedding: ids (int64) [...] → [..., dim]. */
export function emitEmbedding(g: OnnxBuilder, m: Embedding, ids: string, name: string): string {
  return g.gather(g.weight(`${name}.weight`, m.weight), ids, 0);
}

export function emitGELU(g: OnnxBuilder, m: GELU, x: string): string {
  return m.approximate === 'tanh' ? emitGeluTanh(g, x) : emitGeluErf(g, x);
}

export function emitSiLU(g: OnnxBuilder, _m: SiLU, x: string): string {
  return emitSilu(g, x);
}
