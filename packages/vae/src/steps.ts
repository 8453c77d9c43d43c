import { nn, tf } from '@mige/core';

/**
 * Helpers for chains of NHWC steps that free each intermediate as soon as the next one exists:
 * at 512 px one SD-VAE activation is up to 268 MB, so holding a whole block's intermediates
 * until a tidy ends would multiply the peak memory. Freeing is safe under gradient recording
 * too, because tfjs keeps its own references to the tensors a gradient needs.
 */

/** `f(t)` with f's temporaries freed, then `t` freed (unless f returned it). */
export function consume<T extends tf.Tensor, R extends tf.Tensor>(t: T, f: (t: T) => R): R {
  const r = tf.tidy(() => f(t));
  if ((r as tf.Tensor) !== t) t.dispose();
  return r;
}

/** SiLU(GroupNorm(x)) on x [B, H, W, C]: the pre-activation every ResnetBlock2D and Encoder/Decoder output uses. */
export function normSilu(norm: nn.GroupNorm, x: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => {
    const y = norm.forwardNHWC(x);
    const s = tf.sigmoid(y);
    const out = tf.mul(y, s);
    y.dispose();
    s.dispose();
    return out as tf.Tensor4D;
  });
}

/** NCHW → NHWC, at the model's boundaries only. */
export const toNHWC = (x: tf.Tensor4D): tf.Tensor4D => tf.transpose(x, [0, 2, 3, 1]);
/** NHWC → NCHW. */
export const toNCHW = (x: tf.Tensor4D): tf.Tensor4D => tf.transpose(x, [0, 3, 1, 2]);
