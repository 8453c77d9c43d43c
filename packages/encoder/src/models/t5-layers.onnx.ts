import { emitAttention, emitGeluTanh, emitLinear, emitParam, type OnnxBuilder } from '@mige/core';
import type { T5Attention, T5Block, T5DenseGatedActDense, T5LayerNorm } from './t5-layers.js';

/** T5LayerNorm (RMSNorm): w · x / √(mean(x²) + eps). */
export function emitT5LayerNorm(g: OnnxBuilder, m: T5LayerNorm, x: string, name: string): string {
  const variance = g.reduceMean(g.mul(x, x), [-1]);
  const inv = g.reciprocal(g.sqrt(g.addScalar(variance, m.eps)));
  return g.mul(emitParam(g, `${name}.weight`, m.weight), g.mul(x, inv));
}

/** T5Attention: q, k, v, o without bias; unscaled scores plus `bias` [B, H, L, L] (position bias + key mask). */
export function emitT5Attention(g: OnnxBuilder, m: T5Attention, x: string, bias: string, name: string): string {
  const [q, k, v] = (['q', 'k', 'v'] as const).map((p) => emitLinear(g, m[p], x, `${name}.${p}`)) as [string, string, string];
  return emitLinear(g, m.o, emitAttention(g, q, k, v, { heads: m.numHeads, scale: 1, bias }), `${name}.o`);
}

/** T5DenseGatedActDense: wo(gelu_new(wi_0 x) · wi_1 x). */
export function emitT5DenseGatedActDense(g: OnnxBuilder, m: T5DenseGatedActDense, x: string, name: string): string {
  const gated = g.mul(emitGeluTanh(g, emitLinear(g, m.wi0, x, `${name}.wi_0`)), emitLinear(g, m.wi1, x, `${name}.wi_1`));
  return emitLinear(g, m.wo, gated, `${name}.wo`);
}

/** T5Block: pre-norm self-attention and FF, each with its residual. */
export function emitT5Block(g: OnnxBuilder, m: T5Block, x: string, bias: string, name: string): string {
  const a = m.layer.attn, f = m.layer.ff;
  const h = g.add(x, emitT5Attention(g, a.selfAttention, emitT5LayerNorm(g, a.layerNorm, x, `${name}.layer.0.layer_norm`), bias, `${name}.layer.0.SelfAttention`));
  return g.add(h, emitT5DenseGatedActDense(g, f.ff, emitT5LayerNorm(g, f.layerNorm, h, `${name}.layer.1.layer_norm`), `${name}.layer.1.DenseReluDense`));
}
