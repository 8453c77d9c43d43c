import { emitAttention, emitGeluTanh, emitLayerNormOp, emitLinear, type OnnxBuilder } from '@mige/core';
import type { CrossAttention, Mlp, SelfAttention } from './layers.js';

/** ONNX emitters for layers.ts: x, y [B, N, D] values; batch and caption length may be dynamic. */

/** fc1 → tanh-GELU → fc2. */
export function emitMlp(g: OnnxBuilder, m: Mlp, x: string, name: string): string {
  return emitLinear(g, m.fc2, emitGeluTanh(g, emitLinear(g, m.fc1, x, `${name}.fc1`)), `${name}.fc2`);
}

/** `qkv` split into [q | k | v], softmax(q·kᵀ/√d)·v per head, `proj`. */
export function emitSelfAttention(g: OnnxBuilder, m: SelfAttention, x: string, name: string): string {
  const [q, k, v] = g.split(emitLinear(g, m.qkv, x, `${name}.qkv`), [m.dim, m.dim, m.dim], -1) as [string, string, string];
  const out = emitAttention(g, q, k, v, { heads: m.numHeads, scale: 1 / Math.sqrt(m.dim / m.numHeads) });
  return emitLinear(g, m.proj, out, `${name}.proj`);
}

/** x [B, N, D] attends to y [B, L, D] with the additive key bias [B, 1, 1, L] from `emitCrossAttentionBias`. */
export function emitCrossAttention(g: OnnxBuilder, m: CrossAttention, x: string, y: string, bias: string, name: string): string {
  const q = emitLinear(g, m.qLinear, x, `${name}.q_linear`);
  const [k, v] = g.split(emitLinear(g, m.kvLinear, y, `${name}.kv_linear`), [m.dim, m.dim], -1) as [string, string];
  const out = emitAttention(g, q, k, v, { heads: m.numHeads, scale: 1 / Math.sqrt(m.dim / m.numHeads), bias });
  return emitLinear(g, m.proj, out, `${name}.proj`);
}

/** mask [B, L] float (1 valid, 0 padding) → bias [B, 1, 1, L]: (1 − mask)·(−1e9), as crossAttentionBias. */
export function emitCrossAttentionBias(g: OnnxBuilder, mask: string): string {
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
