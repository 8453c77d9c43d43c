import { checkShapes, MigeInputError, nn, tf, type PatchEmbedder, type TokenSequence } from '@mige/core';
import { Slots } from './slots.js';
import { Mlp } from './layers.js';

/**
 * The embedders every backbone here shares: patches, timesteps, captions, and the fixed 2-D
 * sin-cos position table. Names follow PixArt (timm's PatchEmbed, PixArt_blocks.py).
 */

/**
 * timm's PatchEmbed (`proj` = Conv2d with kernel = stride = p) followed by flatten: x
 * [B, C, H, W] → tokens [B, (H/p)·(W/p), D] in row-major patch order. No position embedding:
 * MIGE's fusion path calls `x_embedder` alone on reference latents, so this is `embed` as-is.
 */
export class PatchEmbed extends nn.Module implements PatchEmbedder {
  readonly proj: nn.Conv2d;

  constructor(readonly patchSize: number, readonly inChannels: number, readonly hiddenSize: number) {
    super();
    this.proj = this.module('proj', new nn.Conv2d(inChannels, hiddenSize, patchSize, { stride: patchSize }));
  }

  embed(x: tf.Tensor4D): TokenSequence {
    const where = 'PatchEmbed.embed';
    checkShapes(where, { x: [x, ['B', this.inChannels, 'H', 'W']] });
    const [b, c, h, w] = x.shape;
    const p = this.patchSize;
    if (h % p !== 0 || w % p !== 0) {
      throw new MigeInputError(`x has shape [${x.shape}]: H and W must be multiples of the patch size ${p}`, where);
    }
    const gh = h / p, gw = w / p;
    return tf.tidy(() => {
      // Patches as rows in (kh, kw, c) order, then one product: the conv without its NCHW output
      // layout, which the tokens would only transpose back.
      const nhwc = tf.transpose(x, [0, 2, 3, 1]);
      const rows = tf.reshape(tf.transpose(tf.reshape(nhwc, [b * gh, p, gw, p * c]), [0, 2, 1, 3]), [b * gh * gw, p * p * c]);
      const wmat = tf.reshape(tf.transpose(this.proj.weight, [0, 2, 3, 1]), [this.hiddenSize, p * p * c]);
      return tf.reshape(nn.linear(rows, wmat, this.proj.bias), [b, gh * gw, this.hiddenSize]) as TokenSequence;
    });
  }
}

/**
 * PixArt's fixed position table [numPatches, D] (`get_2d_sincos_pos_embed`): for the patch at
 * (row i, col j), `[sin(j'ω), cos(j'ω), sin(i'ω), cos(i'ω)]` with ω_k = 10000^(−k/(D/4)) and
 * i' = i / (grid/baseSize) / leweiScale. Computed in float64 and rounded once, as numpy does.
 */
export function sincosPositionTable(hiddenSize: number, gridSize: number, baseSize: number, leweiScale: number): Float32Array {
  const quarter = hiddenSize / 4;
  const omega = Array.from({ length: quarter }, (_, k) => 1 / 10000 ** (k / quarter));
  // numpy builds the grid in float32: arange(g) / (g / base) / lewei.
  const f = Math.fround;
  const step = f(gridSize / baseSize);
  const coord = (i: number) => f(f(i / step) / f(leweiScale));
  const out = new Float32Array(gridSize * gridSize * hiddenSize);
  for (let i = 0; i < gridSize; i++) {
    for (let j = 0; j < gridSize; j++) {
      const row = out.subarray((i * gridSize + j) * hiddenSize);
      omega.forEach((w, k) => {
        row[k] = Math.sin(coord(j) * w);
        row[quarter + k] = Math.cos(coord(j) * w);
        row[2 * quarter + k] = Math.sin(coord(i) * w);
        row[3 * quarter + k] = Math.cos(coord(i) * w);
      });
    }
  }
  return out;
}

/** The frequency-embedding size PixArt and DiT use for timesteps. */
export const TIMESTEP_FREQUENCY_SIZE = 256;

/**
 * exp(−ln(10000)·k/half) for k < half, rounded step by step to float32 as torch computes it in
 * float32, so large timesteps (t·f up to ~1000 rad) give the reference's arguments.
 */
function timestepFrequencies(half: number): Float32Array {
  const f = Math.fround;
  const negLog = f(-Math.log(10000));
  return Float32Array.from({ length: half }, (_, k) => f(Math.exp(f(f(negLog * k) / half))));
}

/**
 * TimestepEmbedder: t [B] → [cos(t·f), sin(t·f)] (256, cos first) → `mlp.0` → SiLU → `mlp.2` → [B, D].
 */
export class TimestepEmbedder extends nn.Module {
  private readonly mlp = this.module('mlp', new Slots());
  readonly fc1: nn.Linear;
  readonly fc2: nn.Linear;
  private readonly freqs = timestepFrequencies(TIMESTEP_FREQUENCY_SIZE / 2);

  constructor(readonly hiddenSize: number) {
    super();
    this.fc1 = this.mlp.add(0, new nn.Linear(TIMESTEP_FREQUENCY_SIZE, hiddenSize));
    this.fc2 = this.mlp.add(2, new nn.Linear(hiddenSize, hiddenSize));
  }

  /** t [B] (float, 0..999) → [B, 256] */
  frequencyEmbedding(t: tf.Tensor1D): tf.Tensor2D {
    const args = tf.mul(tf.reshape(tf.cast(t, 'float32'), [-1, 1]), tf.tensor2d(this.freqs, [1, this.freqs.length]));
    return tf.concat([tf.cos(args), tf.sin(args)], 1) as tf.Tensor2D;
  }

  /** t [B] → [B, D] */
  forward(t: tf.Tensor1D): tf.Tensor2D {
    return this.fc2.forward(nn.silu(this.fc1.forward(this.frequencyEmbedding(t)))) as tf.Tensor2D;
  }
}

/**
 * CaptionEmbedder: y [B, L, C] → `y_proj` (fc1 → tanh-GELU → fc2) → [B, L, D], with the learned
 * null caption `y_embedding` [maxLength, C] (a buffer) that classifier-free guidance feeds instead of y.
 */
export class CaptionEmbedder extends nn.Module {
  readonly yProj: Mlp;

  constructor(readonly captionChannels: number, hiddenSize: number, readonly maxLength: number) {
    super();
    this.yProj = this.module('y_proj', new Mlp(captionChannels, hiddenSize, hiddenSize));
    this.buffer('y_embedding', tf.zeros([maxLength, captionChannels]));
  }

  /** The null caption [maxLength, C] (the buffer itself: do not dispose it). */
  get nullCaption(): tf.Tensor2D {
    return this.getBuffer('y_embedding') as tf.Tensor2D;
  }

  /** Replaces the null caption, taking ownership of `value` [maxLength, C]. */
  setNullCaption(value: tf.Tensor): void {
    const old = this.getBuffer('y_embedding');
    this.buffer('y_embedding', value);
    old.dispose();
  }

  /** y [B, L, C] → [B, L, D] */
  forward(y: tf.Tensor3D): tf.Tensor3D {
    return this.yProj.forward(y) as tf.Tensor3D;
  }
}
