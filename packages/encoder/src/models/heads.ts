import { tf } from '@mige/core';

/** Head reshapes shared by the encoder's attention layers (nn.attention takes [B·H, S, d]). */

/** [B, S, H·d] → [B·H, S, d] */
export function splitHeads(t: tf.Tensor, heads: number): tf.Tensor3D {
  const [b, s, c] = t.shape as [number, number, number];
  return tf.reshape(tf.transpose(tf.reshape(t, [b, s, heads, c / heads]), [0, 2, 1, 3]), [b * heads, s, c / heads]);
}

/** [B·H, S, d] → [B, S, H·d] */
export function mergeHeads(t: tf.Tensor3D, heads: number): tf.Tensor3D {
  const [bh, s, d] = t.shape;
  return tf.reshape(tf.transpose(tf.reshape(t, [bh / heads, heads, s, d]), [0, 2, 1, 3]), [bh / heads, s, heads * d]);
}

/** Receives named intermediates (block outputs, biases) for parity checks and debugging. */
export type TraceFn = (name: string, value: tf.Tensor) => void;

/**
 * softmax(q·kᵀ·scale + bias)·v with stock tfjs ops, so the gradient also reaches `bias`
 * (nn.attention differentiates q, k and v only). q [N,L,d], k [N,S,d], v [N,S,dv],
 * bias [N,L,S] → [N,L,dv]. Slower on wasm: used only while training a learned bias.
 */
export function attentionWithBiasGrad(q: tf.Tensor3D, k: tf.Tensor3D, v: tf.Tensor3D, scale: number, bias: tf.Tensor3D): tf.Tensor3D {
  const scores = tf.add(tf.mul(tf.matMul(q, k, false, true), scale), bias);
  return tf.matMul(tf.softmax(scores), v);
}
