import type * as tf from '@tensorflow/tfjs-core';
import type { Module } from './nn/module.js';
import type { Rng } from './rng.js';
import type { ImageBatch, Latents, Timesteps, TokenMask, TokenSequence } from './tensors.js';

/**
 * The interfaces at MIGE's package boundaries. Component packages implement them; pipelines and
 * fusion consume them, so no component package imports another.
 */

/** A diagonal Gaussian over latents, as diffusers' DiagonalGaussianDistribution. */
export interface LatentDistribution {
  /** [B, C, h, w], unscaled (no scaling factor applied). */
  readonly mean: Latents;
  /** [B, C, h, w], clamped to [-30, 20] as the reference does. */
  readonly logvar: Latents;
  /** exp(0.5·logvar), [B, C, h, w]. */
  readonly std: Latents;
  /** mean + std·ε with ε from `rng` (per-item streams when `rng` is an array, one per batch item). */
  sample(rng: Rng | Rng[]): Latents;
  /** The mean. */
  mode(): Latents;
}

/** The VAE as the pipelines see it. */
export interface VaeCodec {
  /** Multiplies latents before diffusion (0.18215 for SD-VAE). */
  readonly scalingFactor: number;
  /** Image size / latent size (8 for SD-VAE). */
  readonly downsampleFactor: number;
  readonly latentChannels: number;
  /** images [B, 3, H, W] in [-1, 1] → the latent distribution (unscaled). */
  encode(images: ImageBatch): LatentDistribution;
  /** Unscaled latents [B, C, h, w] → images [B, 3, H, W], nominally in [-1, 1] (not clamped). */
  decode(latents: Latents): ImageBatch;
}

/** A backbone's patch embedder, which fusion reuses to embed reference latents. */
export interface PatchEmbedder {
  readonly patchSize: number;
  /** Channels the embedder takes (the backbone's input channels, 8 for MIGE). */
  readonly inChannels: number;
  readonly hiddenSize: number;
  /** x [B, inChannels, H, W] → tokens [B, (H/p)·(W/p), hiddenSize], row-major patch order. */
  embed(x: tf.Tensor4D): TokenSequence;
}

export interface BackboneInput {
  /** Noisy latents [B, 4, h, w] (scaled). */
  x: Latents;
  /** Conditional input [B, 4, h, w]: the scaled source latent, or zeros. */
  cond: Latents;
  /** Timesteps [B] in the schedule's discrete range (0..999). */
  t: Timesteps;
  /** Condition tokens [B, L, captionChannels] (the instruction encoder's output). */
  y: TokenSequence;
  /** [B, L]: 1 for a valid condition token, 0 for padding. */
  mask: TokenMask;
}

export interface BackboneOutput {
  /** Predicted noise ε [B, 4, h, w]. */
  eps: Latents;
  /** The learned-sigma half [B, 4, h, w] (IDDPM's interpolation values), when the backbone has one. */
  variance?: Latents;
}

/** A diffusion backbone: what pipelines sample and train through, whatever its architecture. */
export interface DiffusionBackbone {
  /** The trainable module tree (parameters, state dict). */
  readonly module: Module;
  readonly learnSigma: boolean;
  readonly captionChannels: number;
  /** Longest condition sequence it accepts. */
  readonly maxLength: number;
  readonly patchEmbedder: PatchEmbedder;
  forward(input: BackboneInput): BackboneOutput;
  /** The learned null condition for classifier-free guidance: [maxLength, captionChannels]. */
  nullCondition(): tf.Tensor2D;
}
