import * as tf from '@tensorflow/tfjs-core';
// tfjs-core's gradient functions, which the custom gradients below build on.
import '../backend/generated/tfjs-gradients.cjs';

/**
 * Differentiable primitives written for tfjs-wasm's fast paths (docs/perf.md): every
 * matrix product is a plain 2-D, non-transposed, batch-1 matmul (the only case XNNPACK runs),
 * including in the backward pass, where the stock gradients would use transposed products.
 * Each computes exactly the PyTorch function it replaces.
 */

type GradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor[];

/**
 * tf.customGrad with typed inputs: `f` gets the input tensors and the save function and
 * returns the value and a gradient function giving one gradient per input.
 */
export function customOp<R extends tf.Tensor>(
  f: (inputs: tf.Tensor[], save: tf.GradSaveFunc) => { value: R; gradFunc: GradFunc },
): (...inputs: tf.Tensor[]) => R {
  type Inner = Parameters<typeof tf.customGrad<R>>[0];
  const g = tf.customGrad<R>(((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    return f(args.slice(0, -1) as tf.Tensor[], save);
  }) as Inner);
  return (...inputs: tf.Tensor[]) => g(...inputs) as R;
}

/** Plain 2-D product a [M,K] · b [K,N] with a gradient made of plain 2-D products. */
const matmul2dOp = customOp(([a, b], save) => {
  save([a as tf.Tensor, b as tf.Tensor]);
  return {
    value: tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D),
    gradFunc: (dy, saved) => {
      const [sa, sb] = saved as [tf.Tensor2D, tf.Tensor2D];
      return [tf.matMul(dy as tf.Tensor2D, tf.transpose(sb)), tf.matMul(tf.transpose(sa), dy as tf.Tensor2D)];
    },
  };
});
export const matmul2d = (a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D => matmul2dOp(a, b) as tf.Tensor2D;

const linearNoBias = customOp(([x, w], save) => {
  save([x as tf.Tensor, w as tf.Tensor]);
  return {
    value: tf.matMul(x as tf.Tensor2D, tf.transpose(w as tf.Tensor2D)),
    gradFunc: (dy, saved) => {
      const [sx, sw] = saved as [tf.Tensor2D, tf.Tensor2D];
      const dy2 = dy as tf.Tensor2D;
      return [tf.matMul(dy2, sw), tf.matMul(tf.transpose(dy2), sx)];
    },
  };
});

const linearBias = customOp(([x, w, b], save) => {
  save([x as tf.Tensor, w as tf.Tensor]);
  return {
    value: tf.add(tf.matMul(x as tf.Tensor2D, tf.transpose(w as tf.Tensor2D)), b as tf.Tensor) as tf.Tensor2D,
    gradFunc: (dy, saved) => {
      const [sx, sw] = saved as [tf.Tensor2D, tf.Tensor2D];
      const dyT = tf.transpose(dy as tf.Tensor2D);
      // The bias gradient as a last-axis sum of the dyᵀ that dW needs anyway: an axis-0 sum
      // would transpose again, and ones[1,N]·dy is a slow M=1 product on XNNPACK.
      return [tf.matMul(dy as tf.Tensor2D, sw), tf.matMul(dyT, sx), tf.sum(dyT, 1)];
    },
  };
});

/**
 * PyTorch's F.linear: x [..., in] · weightᵀ + bias, with weight [out, in] in PyTorch layout.
 */
export function linear(x: tf.Tensor, weight: tf.Tensor, bias?: tf.Tensor): tf.Tensor {
  const inF = weight.shape[1] as number;
  const outF = weight.shape[0] as number;
  const lead = x.shape.slice(0, -1);
  const x2 = tf.reshape(x, [-1, inF]) as tf.Tensor2D;
  const y = bias ? linearBias(x2, weight, bias) : linearNoBias(x2, weight);
  return tf.reshape(y, [...lead, outF]);
}

/**
 * x [..., in] · wt + bias with an already transposed weight wt [in, out]. For inference: it has
 * no gradient with respect to the original weight.
 */
export function linearPretransposed(x: tf.Tensor, wt: tf.Tensor2D, bias?: tf.Tensor): tf.Tensor {
  const [inF, outF] = wt.shape;
  const lead = x.shape.slice(0, -1);
  const x2 = tf.reshape(x, [-1, inF]) as tf.Tensor2D;
  // The fused kernel adds the bias inside the matmul's output pass.
  const y2 = bias ? tf.fused.matMul({ a: x2, b: wt, bias }) : tf.matMul(x2, wt);
  return tf.reshape(y2, [...lead, outF]);
}

/** Per-slice plain 2-D products of a [N,M,K] and b [N,K,P] (a batched matmul without the slow path). */
function bmm(a: tf.Tensor[], b: tf.Tensor[]): tf.Tensor3D {
  return tf.stack(a.map((ai, i) => tf.matMul(ai as tf.Tensor2D, b[i] as tf.Tensor2D))) as tf.Tensor3D;
}

function transposeLast2(t: tf.Tensor): tf.Tensor {
  return tf.transpose(t, [0, 2, 1]);
}

/**
 * Scaled dot-product attention softmax(scale·q·kᵀ + mask)·v over N = batch·heads slices.
 * q [N,L,d], k [N,S,d], v [N,S,dv]; `mask` is additive and broadcasts to [N,L,S] (use a large
 * negative number, not -inf, for disallowed positions). Returns [N,L,dv]. Forward and backward
 * use only plain 2-D products. The mask gets a gradient too (summed over the axes it
 * broadcasts along), so a learned bias such as T5's relative position bias trains through it.
 */
export function attention(
  q: tf.Tensor3D,
  k: tf.Tensor3D,
  v: tf.Tensor3D,
  scale: number,
  mask?: tf.Tensor,
): tf.Tensor3D {
  const core = customOp(([qq, kk, vv, mm], save) => {
    if (!qq || !kk || !vv) throw new Error('attention needs q, k and v');
    const qs = tf.unstack(tf.mul(qq, scale));
    let scores: tf.Tensor = bmm(qs, tf.unstack(transposeLast2(kk)));
    if (mm) scores = tf.add(scores, mm);
    const p = tf.softmax(scores);
    const out = bmm(tf.unstack(p), tf.unstack(vv));
    save([qq, kk, vv, p]);
    return {
      value: out,
      gradFunc: (dy, saved) => {
        const [sq, sk, sv, sp] = saved as [tf.Tensor3D, tf.Tensor3D, tf.Tensor3D, tf.Tensor3D];
        const dys = tf.unstack(dy);
        const dp = bmm(dys, tf.unstack(transposeLast2(sv)));
        // softmax backward: dS = P ⊙ (dP − Σ_j dP⊙P); dS is also the mask's gradient.
        const ds = tf.mul(sp, tf.sub(dp, tf.sum(tf.mul(dp, sp), -1, true)));
        const dq = tf.mul(bmm(tf.unstack(ds), tf.unstack(sk)), scale);
        const dk = tf.mul(bmm(tf.unstack(transposeLast2(ds)), tf.unstack(sq)), scale);
        const dv = bmm(tf.unstack(transposeLast2(sp)), dys);
        return mm ? [dq, dk, dv, sumToShape(ds, mm.shape)] : [dq, dk, dv];
      },
    };
  });
  return (mask ? core(q, k, v, mask) : core(q, k, v)) as tf.Tensor3D;
}

/** Sums `t` over the axes along which a tensor of `shape` was broadcast to t's shape. */
function sumToShape(t: tf.Tensor, shape: readonly number[]): tf.Tensor {
  const lead = t.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < t.rank; i++) {
    const target = i < lead ? 1 : (shape[i - lead] as number);
    if (target === 1 && (t.shape[i] as number) !== 1) axes.push(i);
  }
  return tf.reshape(axes.length ? tf.sum(t, axes, true) : t, [...shape]);
}

/** [B, S, H·d] → [B·H, S, d], the layout `attention` takes. */
export function splitHeads(t: tf.Tensor, heads: number): tf.Tensor3D {
  const [b, s, c] = t.shape as [number, number, number];
  return tf.reshape(tf.transpose(tf.reshape(t, [b, s, heads, c / heads]), [0, 2, 1, 3]), [b * heads, s, c / heads]);
}

/** [B·H, S, d] → [B, S, H·d], the inverse of `splitHeads`. */
export function mergeHeads(t: tf.Tensor3D, heads: number): tf.Tensor3D {
  const [bh, s, d] = t.shape;
  return tf.reshape(tf.transpose(tf.reshape(t, [bh / heads, heads, s, d]), [0, 2, 1, 3]), [bh / heads, s, heads * d]);
}

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

/**
 * tanh-approximated GELU, 0.5·x·(1 + tanh(√(2/π)(x + 0.044715x³))), computed through the
 * identity 0.5·(1 + tanh(u)) = sigmoid(2u), because sigmoid is vectorised on wasm and tanh
 * is scalar.
 */
const geluTanhOp = customOp(([x], save) => {
  if (!x) throw new Error('geluTanh needs an input');
  const x3 = tf.mul(tf.mul(x, x), x);
  const s = tf.sigmoid(tf.mul(tf.add(x, tf.mul(x3, 0.044715)), 2 * SQRT_2_OVER_PI));
  save([x, s]);
  return {
    value: tf.mul(x, s),
    gradFunc: (dy, saved) => {
      const [sx, ss] = saved as [tf.Tensor, tf.Tensor];
      // d/dx [x·σ(u)] = σ + x·σ(1−σ)·u', u' = 2c(1 + 3·0.044715·x²)
      const du = tf.mul(tf.add(tf.mul(tf.mul(sx, sx), 3 * 0.044715), 1), 2 * SQRT_2_OVER_PI);
      const dsig = tf.mul(ss, tf.sub(1, ss));
      return [tf.mul(dy, tf.add(ss, tf.mul(tf.mul(sx, dsig), du)))];
    },
  };
});
export const geluTanh = (x: tf.Tensor): tf.Tensor => geluTanhOp(x);

const INV_SQRT_2 = Math.SQRT1_2;
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

/** Exact GELU, 0.5·x·(1 + erf(x/√2)), as PyTorch's default nn.GELU. */
const geluErfOp = customOp(([x], save) => {
  if (!x) throw new Error('geluErf needs an input');
  const cdf = tf.mul(tf.add(tf.erf(tf.mul(x, INV_SQRT_2)), 1), 0.5);
  save([x, cdf]);
  return {
    value: tf.mul(x, cdf),
    gradFunc: (dy, saved) => {
      const [sx, scdf] = saved as [tf.Tensor, tf.Tensor];
      const pdf = tf.mul(tf.exp(tf.mul(tf.mul(sx, sx), -0.5)), INV_SQRT_2PI);
      return [tf.mul(dy, tf.add(scdf, tf.mul(sx, pdf)))];
    },
  };
});
export const geluErf = (x: tf.Tensor): tf.Tensor => geluErfOp(x);

/** SiLU (swish), x·sigmoid(x). */
export function silu(x: tf.Tensor): tf.Tensor {
  return tf.mul(x, tf.sigmoid(x));
}

/**
 * Normalises over the last axis: (x − mean)/√(var + eps), biased variance as PyTorch. The
 * optional affine weight and bias broadcast over the last axis.
 */
export function layerNorm(x: tf.Tensor, eps: number, weight?: tf.Tensor, bias?: tf.Tensor): tf.Tensor {
  const { mean, variance } = tf.moments(x, -1, true);
  let y = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps)));
  if (weight) y = tf.mul(y, weight);
  if (bias) y = tf.add(y, bias);
  return y;
}

/**
 * tf.split along `axis` into `parts` (a count or the sizes). With a single part it returns a
 * clone: tfjs's SplitV gradient expects several output gradients and fails on one.
 */
export function splitParts<T extends tf.Tensor>(x: T, parts: number | number[], axis = 0): T[] {
  const n = typeof parts === 'number' ? parts : parts.length;
  if (n === 1) return [tf.clone(x)];
  return tf.split(x, parts, axis) as T[];
}
