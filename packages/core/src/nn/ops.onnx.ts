import type { OnnxBuilder } from '../onnx/builder.js';

/**
 * ONNX emitters for the primitives in ops.ts, computing the same float32 expressions in the
 * same order (GELU through the same identities, attention with q scaled before the product),
 * so exported graphs agree with the tfjs forward to rounding.
 */

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

/** SiLU, x·sigmoid(x). */
export function emitSilu(g: OnnxBuilder, x: string): string {
  return g.mul(x, g.sigmoid(x));
}

/**
 * Exact GELU, x · Φ(x) with Φ(x) = 0.5·(1 + erf(x/√2)). Its gradient, Φ(x) + x·φ(x), is one
 * custom rule (7 elementwise nodes instead of the ~12 of differentiating each node).
 */
export function emitGeluErf(g: OnnxBuilder, x: string): string {
  let cdf = '';
  return g.customGradient([x], () => {
    cdf = g.mulScalar(g.addScalar(g.erf(g.mulScalar(x, Math.SQRT1_2)), 1), 0.5);
    return g.mul(x, cdf);
  }, (dy) => {
    const pdf = g.mulScalar(g.exp(g.mulScalar(g.mul(x, x), -0.5)), 1 / Math.sqrt(2 * Math.PI));
    return [g.mul(dy, g.add(cdf, g.mul(x, pdf)))];
  });
}

/**
 * tanh GELU as ops.ts computes it: x · σ(u), u = 2·√(2/π)·(x + 0.044715x³). Its gradient,
 * σ + x·σ(1 − σ)·2√(2/π)·(1 + 3·0.044715x²), is one custom rule reusing σ, x² and the output
 * y = x·σ (7 elementwise nodes instead of ~16: this activation is the widest tensor of a
 * transformer block).
 */
export function emitGeluTanh(g: OnnxBuilder, x: string): string {
  let x2 = '', s = '';
  return g.customGradient([x], () => {
    x2 = g.mul(x, x);
    const x3 = g.mul(x2, x);
    s = g.sigmoid(g.mulScalar(g.add(x, g.mulScalar(x3, 0.044715)), 2 * SQRT_2_OVER_PI));
    return g.mul(x, s);
  }, (dy, _inputs, y) => {
    const c = 2 * SQRT_2_OVER_PI;
    const slope = g.addScalar(g.mulScalar(x2, 3 * 0.044715 * c), c); // du/dx
    // x·σ'(u) = x·σ·(1 − σ) = y·(1 − σ).
    return [g.mul(dy, g.add(s, g.mul(g.mul(y, g.sub(g.scalar(1), s)), slope)))];
  });
}

/**
 * LayerNorm over the last axis of width `dim`: LayerNormalization (opset 17), with a ones
 * scale when the norm has no affine weight (the operator requires one).
 */
export function emitLayerNormOp(g: OnnxBuilder, x: string, dim: number, eps: number, weight?: string, bias?: string): string {
  const scale = weight ?? g.constantF32('ones', new Float32Array(dim).fill(1), [dim]);
  return g.layerNormalization(x, scale, bias, eps);
}

export interface OnnxAttentionOptions {
  heads: number;
  /** Multiplies q before q·kᵀ (1/√headDim, or 1 for T5). */
  scale: number;
  /** Additive bias broadcastable to the scores [B, heads, L, S] (masks, position bias). */
  bias?: string;
}

/**
 * Multi-head scaled dot-product attention on unsplit projections: q [B, L, H·d], k [B, S, H·d],
 * v [B, S, H·dv] → [B, L, H·dv]; softmax(scale·q·kᵀ + bias)·v per head (ops.ts's `attention`
 * with splitHeads / mergeHeads around it). Batch and lengths may be dynamic.
 */
export function emitAttention(g: OnnxBuilder, q: string, k: string, v: string, o: OnnxAttentionOptions): string {
  const h = o.heads;
  const heads = (t: string, perm: number[]) => g.transpose(g.reshape(t, [0, 0, h, -1]), perm);
  const qh = heads(g.mulScalar(q, o.scale), [0, 2, 1, 3]); // [B, H, L, d]
  const kt = heads(k, [0, 2, 3, 1]); // [B, H, d, S]
  const vh = heads(v, [0, 2, 1, 3]); // [B, H, S, dv]
  let scores = g.matMul(qh, kt);
  if (o.bias) scores = g.add(scores, o.bias);
  const out = g.matMul(g.softmax(scores, -1), vh); // [B, H, L, dv]
  return g.reshape(g.transpose(out, [0, 2, 1, 3]), [0, 0, -1]);
}

/** ONNX Runtime's tanh GELU of x + bias in one pass (com.microsoft FastGelu; inference graphs only). */
export function emitFastGelu(g: OnnxBuilder, x: string, bias?: string): string {
  return g.node('FastGelu', bias ? [x, bias] : [x], {}, 1, 'com.microsoft')[0] as string;
}

export interface OnnxFusedAttentionOptions {
  heads: number;
  /** Multiplies q·kᵀ (1/√headDim). */
  scale: number;
  /** [3·H·d]: the biases of q, k and v, added inside the operator. */
  qkvBias?: string;
  /** [B, S] int32, 1 for keys to attend to and 0 for padding. */
  keyMask?: string;
}

/**
 * ONNX Runtime's MultiHeadAttention (com.microsoft; inference graphs only): q [B, L, H·d],
 * k, v [B, S, H·d] → [B, L, H·d], softmax(scale·q·kᵀ + mask)·v per head without the head
 * transposes and score passes of `emitAttention`. Masked keys get −1e9, as the standard path's bias.
 */
export function emitFusedAttention(g: OnnxBuilder, q: string, k: string, v: string, o: OnnxFusedAttentionOptions): string {
  const inputs = [q, k, v, o.qkvBias ?? '', o.keyMask ?? ''];
  while (inputs[inputs.length - 1] === '') inputs.pop();
  const attrs = { num_heads: o.heads, scale: { f: o.scale }, mask_filter_value: { f: -1e9 } };
  return g.node('MultiHeadAttention', inputs, attrs, 1, 'com.microsoft')[0] as string;
}
