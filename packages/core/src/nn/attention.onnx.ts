import type * as tf from '@tensorflow/tfjs-core';
import type { OnnxBuilder } from '../onnx/builder.js';
import type { MultiheadAttention } from './attention.js';
import { emitLinear, emitParam } from './layers.onnx.js';
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
  // q/k/v weights [E, in]: their own parameters, or rows [i·E, (i+1)·E) of in_proj_weight.
  const proj = (t: string, i: number, sep: tf.Variable | undefined, label: string): string => {
    const w = sep
      ? emitParam(g, `${name}.${label}_proj_weight`, sep)
      : g.slice(emitParam(g, `${name}.in_proj_weight`, m.inProjWeight as tf.Variable), [i * e], [(i + 1) * e], [0]);
    let y = g.matMul(toBF(t), g.transpose(w, [1, 0]));
    if (m.inProjBias) y = g.add(y, g.slice(emitParam(g, `${name}.in_proj_bias`, m.inProjBias), [i * e], [(i + 1) * e], [0]));
    return y;
  };
  const q = proj(query, 0, m.qProjWeight, 'q');
  const k = proj(key, 1, m.kProjWeight, 'k');
  const v = proj(value, 2, m.vProjWeight, 'v');
  const merged = emitAttention(g, q, k, v, { heads: m.numHeads, scale: 1 / Math.sqrt(m.headDim) });
  const y = emitLinear(g, m.outProj, merged, `${name}.out_proj`);
  return m.batchFirst ? y : g.transpose(y, [1, 0, 2]);
}
