import { emitAttention, emitFastGelu, emitFusedAttention, emitGeluTanh, emitLayerNormOp, emitLinear, emitLinearRows, emitParam, type OnnxBuilder } from '@mige/core';
import type { CrossAttention, Mlp, SelfAttention } from './layers.js';

/** ONNX emitters for layers.ts: x, y [B, N, D] values; batch and caption length may be dynamic. */

/** fc1 → tanh-GELU → fc2. */
export function emitMlp(g: OnnxBuilder, m: Mlp, x: string, name: string): string {
  if (g.fusedOps) {
    // Rows through both layers; fc1's bias goes into FastGelu, the widest tensor's one pass.
    const hidden = emitLinearRows(g, m.fc1, g.rows(x, m.fc1.inFeatures), `${name}.fc1`, { bias: false });
    const h = emitFastGelu(g, hidden, m.fc1.bias ? emitParam(g, `${name}.fc1.bias`, m.fc1.bias) : undefined);
    return g.unrows(emitLinearRows(g, m.fc2, h, `${name}.fc2`), x, m.fc2.outFeatures);
  }
  return emitLinear(g, m.fc2, emitGeluTanh(g, emitLinear(g, m.fc1, x, `${name}.fc1`)), `${name}.fc2`);
}

/** `qkv` split into [q | k | v], softmax(q·kᵀ/√d)·v per head, `proj`. */
export function emitSelfAttention(g: OnnxBuilder, m: SelfAttention, x: string, name: string): string {
  const d = m.dim, scale = 1 / Math.sqrt(m.dim / m.numHeads);
  let out: string;
  if (g.fusedOps) {
    // q, k, v from W's row blocks (no Split); their biases go into the attention.
    const rows = g.rows(x, d);
    const [q, k, v] = [0, 1, 2].map((i) => g.unrows(emitLinearRows(g, m.qkv, rows, `${name}.qkv`, { bias: false, outputs: [i * d, (i + 1) * d] }), x, d)) as [string, string, string];
    const qkvBias = m.qkv.bias ? emitParam(g, `${name}.qkv.bias`, m.qkv.bias) : undefined;
    out = emitFusedAttention(g, q, k, v, { heads: m.numHeads, scale, ...(qkvBias ? { qkvBias } : {}) });
  } else {
    const [q, k, v] = g.split(emitLinear(g, m.qkv, x, `${name}.qkv`), [d, d, d], -1) as [string, string, string];
    out = emitAttention(g, q, k, v, { heads: m.numHeads, scale });
  }
  return emitLinear(g, m.proj, out, `${name}.proj`);
}

/** x [B, N, D] attends to y [B, L, D]; `keyMask` is `emitCrossAttentionMask`'s. */
export function emitCrossAttention(g: OnnxBuilder, m: CrossAttention, x: string, y: string, keyMask: string, name: string): string {
  const d = m.dim, scale = 1 / Math.sqrt(m.dim / m.numHeads);
  let out: string;
  if (g.fusedOps) {
    const q = g.unrows(emitLinearRows(g, m.qLinear, g.rows(x, d), `${name}.q_linear`, { bias: false }), x, d);
    const yRows = g.rows(y, d);
    const [k, v] = [0, 1].map((i) => g.unrows(emitLinearRows(g, m.kvLinear, yRows, `${name}.kv_linear`, { bias: false, outputs: [i * d, (i + 1) * d] }), y, d)) as [string, string];
    const biases = [m.qLinear.bias && emitParam(g, `${name}.q_linear.bias`, m.qLinear.bias), m.kvLinear.bias && emitParam(g, `${name}.kv_linear.bias`, m.kvLinear.bias)];
    const qkvBias = biases[0] && biases[1] ? g.concat([biases[0], biases[1]], 0) : undefined;
    if ((biases[0] === undefined) !== (biases[1] === undefined)) throw new Error(`${name}: q_linear and kv_linear must both have biases or neither`);
    out = emitFusedAttention(g, q, k, v, { heads: m.numHeads, scale, keyMask, ...(qkvBias ? { qkvBias } : {}) });
  } else {
    const q = emitLinear(g, m.qLinear, x, `${name}.q_linear`);
    const [k, v] = g.split(emitLinear(g, m.kvLinear, y, `${name}.kv_linear`), [d, d], -1) as [string, string];
    out = emitAttention(g, q, k, v, { heads: m.numHeads, scale, bias: keyMask });
  }
  return emitLinear(g, m.proj, out, `${name}.proj`);
}

/**
 * mask [B, L] float (1 valid, 0 padding) → the cross-attention's key mask: the additive bias
 * [B, 1, 1, L] = (1 − mask)·(−1e9), as crossAttentionBias; with fused ops the int32 mask itself.
 */
export function emitCrossAttentionMask(g: OnnxBuilder, mask: string): string {
  if (g.fusedOps) return g.cast(mask, 'int32');
  const bias = g.mulScalar(g.sub(g.scalar(1), mask), -1e9);
  return g.unsqueeze(bias, [1, 2]);
}

/** t2i_modulate: x·(1 + scale) + shift. */
export function emitModulate(g: OnnxBuilder, x: string, shift: string, scale: string): string {
  return g.add(g.mul(x, g.addScalar(scale, 1)), shift);
}

/** The blocks' LayerNorm: eps 1e-6, no affine parameters. */
export function emitBlockNorm(g: OnnxBuilder, x: string, dim: number): string {
  return emitLayerNormOp(g, x, dim, 1e-6);
}
