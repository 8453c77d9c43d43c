import { nn, tf } from '@mige/core';

/** The transformer layers both block designs use, with PixArt's attribute names. */

/** timm's Mlp with tanh-GELU: `fc1` → GELU(tanh) → `fc2`. */
export class Mlp extends nn.Module {
  readonly fc1: nn.Linear;
  readonly fc2: nn.Linear;

  constructor(inFeatures: number, hiddenFeatures: number, outFeatures: number) {
    super();
    this.fc1 = this.module('fc1', new nn.Linear(inFeatures, hiddenFeatures));
    this.fc2 = this.module('fc2', new nn.Linear(hiddenFeatures, outFeatures));
  }

  forward(x: tf.Tensor): tf.Tensor {
    return this.fc2.forward(nn.geluTanh(this.fc1.forward(x)));
  }
}

const { splitHeads, mergeHeads } = nn;

/**
 * PixArt's `attn` (timm Attention / WindowAttention without windows): `qkv` (output channels
 * [q | k | v], each heads × headDim), softmax(q·kᵀ/√d)·v per head, `proj`.
 */
export class SelfAttention extends nn.Module {
  readonly qkv: nn.Linear;
  readonly proj: nn.Linear;

  constructor(readonly dim: number, readonly numHeads: number) {
    super();
    this.qkv = this.module('qkv', new nn.Linear(dim, 3 * dim));
    this.proj = this.module('proj', new nn.Linear(dim, dim));
  }

  /** x [B, N, D] → [B, N, D] */
  forward(x: tf.Tensor3D): tf.Tensor3D {
    const h = this.numHeads;
    const [q, k, v] = tf.split(this.qkv.forward(x), 3, -1).map((t) => splitHeads(t, h)) as [tf.Tensor3D, tf.Tensor3D, tf.Tensor3D];
    const out = nn.attention(q, k, v, 1 / Math.sqrt(this.dim / h));
    return this.proj.forward(mergeHeads(out, h)) as tf.Tensor3D;
  }
}

/**
 * PixArt's MultiHeadCrossAttention: image tokens attend to the condition tokens, `q_linear` on
 * x, `kv_linear` on y (output channels [k | v]), `proj`. PixArt packs each sample's valid tokens
 * and uses xformers' BlockDiagonalMask; an additive mask over the padded batch is the same
 * function (padding gets weight exp(−1e9) = 0).
 */
export class CrossAttention extends nn.Module {
  readonly qLinear: nn.Linear;
  readonly kvLinear: nn.Linear;
  readonly proj: nn.Linear;

  constructor(readonly dim: number, readonly numHeads: number) {
    super();
    this.qLinear = this.module('q_linear', new nn.Linear(dim, dim));
    this.kvLinear = this.module('kv_linear', new nn.Linear(dim, 2 * dim));
    this.proj = this.module('proj', new nn.Linear(dim, dim));
  }

  /** x [B, N, D], y [B, L, D], bias [B·heads, 1, L] from `crossAttentionBias` → [B, N, D] */
  forward(x: tf.Tensor3D, y: tf.Tensor3D, bias: tf.Tensor3D): tf.Tensor3D {
    const h = this.numHeads;
    const q = splitHeads(this.qLinear.forward(x), h);
    const [k, v] = tf.split(this.kvLinear.forward(y), 2, -1).map((t) => splitHeads(t, h)) as [tf.Tensor3D, tf.Tensor3D];
    const out = nn.attention(q, k, v, 1 / Math.sqrt(this.dim / h), bias);
    return this.proj.forward(mergeHeads(out, h)) as tf.Tensor3D;
  }
}

/** What masked-out condition tokens get added to their attention scores. */
const MASKED_SCORE = -1e9;

/** mask [B, L] (1 valid, 0 padding) → additive bias [B·heads, 1, L] for CrossAttention. */
export function crossAttentionBias(mask: tf.Tensor2D, heads: number): tf.Tensor3D {
  const [b, l] = mask.shape;
  const bias = tf.mul(tf.sub(1, tf.cast(mask, 'float32')), MASKED_SCORE);
  return tf.reshape(tf.tile(tf.reshape(bias, [b, 1, 1, l]), [1, heads, 1, 1]), [b * heads, 1, l]);
}

/** PixArt's t2i_modulate: x·(1 + scale) + shift, with shift and scale [B, 1, D]. */
export function modulate(x: tf.Tensor, shift: tf.Tensor, scale: tf.Tensor): tf.Tensor {
  return tf.add(tf.mul(x, tf.add(scale, 1)), shift);
}

/** The blocks' LayerNorm: eps 1e-6, no affine parameters. */
export function norm(x: tf.Tensor): tf.Tensor {
  return nn.layerNorm(x, 1e-6);
}
