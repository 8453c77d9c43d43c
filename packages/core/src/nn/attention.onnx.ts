import * as tf from '@tensorflow/tfjs-core';
import type { OnnxBuilder } from '../onnx/builder.js';
import type { MultiheadAttention } from './attention.js';
import { emitLinear } from './layers.onnx.js';
import { emitAttention } from './ops.onnx.js';

/**
 * MultiheadAttention without masks (the way MIGE's FFM calls it): query [B, L, E], key
 * [B, S, kdim], value [B, S, vdim] in batch-first layout (seq-first modules get transposes
 * around) → [B, L, E]. q/k/v use the slices of in_proj_weight / in_proj_bias (or the separate
 * q/k/v_proj_weight), as the module does.
 */
export function emitMultiheadAttention(g: OnnxBuilder, m: MultiheadAttention, query: string, key: string, value: string, name: string): string {
  const e = m.embedDim;
  const toBF = (t: string) => (m.batchFirst ? t : g.transpose(t, [1, 0, 2]));
  const proj = (t: string, i: number, sep: tf.Variable | undefined, label: string): string => {
    const w = tf.tidy(() => tf.transpose(sep ?? tf.slice(m.inProjWeight as tf.Tensor2D, [i * e, 0], [e, -1])).dataSync() as Float32Array);
    const inF = w.length / e;
    let y = g.matMul(toBF(t), g.weight(`${name}.${label}_proj_weight_t`, w, [inF, e]));
    if (m.inProjBias) {
      const b = tf.tidy(() => tf.slice(m.inProjBias as tf.Tensor1D, [i * e], [e]).dataSync() as Float32Array);
      y = g.add(y, g.weight(`${name}.${label}_proj_bias`, b, [e]));
    }
    return y;
  };
  const q = proj(query, 0, m.qProjWeight, 'q');
  const k = proj(key, 1, m.kProjWeight, 'k');
  const v = proj(value, 2, m.vProjWeight, 'v');
  const merged = emitAttention(g, q, k, v, { heads: m.numHeads, scale: 1 / Math.sqrt(m.headDim) });
  const y = emitLinear(g, m.outProj, merged, `${name}.out_proj`);
  return m.batchFirst ? y : g.transpose(y, [1, 0, 2]);
}
