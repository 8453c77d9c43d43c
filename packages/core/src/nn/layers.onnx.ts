import type * as tf from '@tensorflow/tfjs-core';
import type { OnnxBuilder } from '../onnx/builder.js';
import { emitGeluErf, emitGeluTanh, emitLayerNormOp, emitSilu } from './ops.onnx.js';
import type { Embedding, GELU, GroupNorm, LayerNorm, Linear, SiLU } from './layers.js';

/**
 * ONNX emitters for layers.ts. Each module's parameters enter through `g.param` under `name`
 * (its state-dict path) in their state-dict layout, so one emitter serves inference export and
 * training graphs alike.
 */

/** A module parameter as a graph value: `g.param(name, its shape)`. */
export function emitParam(g: OnnxBuilder, name: string, p: tf.Tensor): string {
  return g.param(name, p.shape);
}

/**
 * Linear: x [..., in] · Wᵀ + b. W [out, in] is transposed in the graph (ONNX Runtime folds
 * that once for an initializer; in a training graph it is the differentiable path to W).
 */
export function emitLinear(g: OnnxBuilder, m: Linear, x: string, name: string): string {
  if (g.fusedOps) return g.unrows(emitLinearRows(g, m, g.rows(x, m.inFeatures), name), x, m.outFeatures);
  const y = g.matMul(x, g.transpose(emitParam(g, `${name}.weight`, m.weight), [1, 0]));
  return m.bias ? g.add(y, emitParam(g, `${name}.bias`, m.bias)) : y;
}

export interface LinearRowsOptions {
  /** Add the bias (default true); false leaves it to a consumer that fuses it (FastGelu, MultiHeadAttention). */
  bias?: boolean;
  /** Only these output features [start, end) (q, k or v of a packed qkv): W's rows sliced, folded at load. */
  outputs?: readonly [number, number];
}

/**
 * Linear on rows for inference graphs (`g.fusedOps`): x [M, in] → [M, out] as one Gemm with W as
 * stored ([out, in], transB: no transpose) and the bias added inside it.
 */
export function emitLinearRows(g: OnnxBuilder, m: Linear, x: string, name: string, o: LinearRowsOptions = {}): string {
  const [start, end] = o.outputs ?? [0, m.outFeatures];
  const slice = (p: string) => (o.outputs ? g.slice(p, [start], [end], [0]) : p);
  const weight = slice(emitParam(g, `${name}.weight`, m.weight));
  const bias = m.bias && (o.bias ?? true) ? slice(emitParam(g, `${name}.bias`, m.bias)) : undefined;
  return g.gemm(x, weight, bias, { transB: 1 });
}

/** LayerNorm over the last axis (LayerNormalization, opset 17). */
export function emitLayerNorm(g: OnnxBuilder, m: LayerNorm, x: string, name: string): string {
  const w = m.weight ? emitParam(g, `${name}.weight`, m.weight) : undefined;
  const b = m.bias ? emitParam(g, `${name}.bias`, m.bias) : undefined;
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
  if (m.weight) y = g.mul(y, g.reshape(emitParam(g, `${name}.weight`, m.weight), affine));
  if (m.bias) y = g.add(y, g.reshape(emitParam(g, `${name}.bias`, m.bias), affine));
  return y;
}

/** Embedding: ids (int64) [...] → [..., dim]. */
export function emitEmbedding(g: OnnxBuilder, m: Embedding, ids: string, name: string): string {
  return g.gather(emitParam(g, `${name}.weight`, m.weight), ids, 0);
}

export function emitGELU(g: OnnxBuilder, m: GELU, x: string): string {
  return m.approximate === 'tanh' ? emitGeluTanh(g, x) : emitGeluErf(g, x);
}

export function emitSiLU(g: OnnxBuilder, _m: SiLU, x: string): string {
  return emitSilu(g, x);
}
