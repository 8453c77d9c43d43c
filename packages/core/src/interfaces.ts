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

/** One batch item's reference images for fusion: n ≥ 0 of them. */
export interface FusionItem {
  /** Q-Former tokens [n, Q, Dq], one row per image. */
  tokens: TokenSequence;
  /** Their VAE latents [n, 4, h, w], unscaled. */
  latents: Latents;
}

/**
 * How the Q-Former tokens of reference images take in those images' VAE features before they
 * join the instruction. The backbone's patch embedder is passed in, so fusion never depends on
 * a concrete backbone.
 */
export interface FeatureFusion {
  /** Which fusion this is (`'ffm'`, `'none'`, …). */
  readonly type: string;
  /** The trainable modules (absent when there is nothing to train). */
  readonly module?: Module;
  /**
   * queryTokens [B, Q, Dq] (Q-Former output), referenceLatents [B, 4, h, w] (the VAE mean,
   * UNSCALED: no 0.18215) → fused tokens [B, Q, Dq], one row per reference image.
   */
  fuse(queryTokens: TokenSequence, referenceLatents: Latents, patchEmbedder: PatchEmbedder): TokenSequence;
  /**
   * Per-item lists of reference images (0 or more each): every item's tokens [n, Q, Dq] and
   * latents [n, 4, h, w] → its fused tokens [n, Q, Dq]. An item without images gives an empty
   * [0, Q, Dq] result and costs nothing.
   */
  fuseBatch(items: readonly FusionItem[], patchEmbedder: PatchEmbedder): TokenSequence[];
}

/** How an instruction's text becomes the prompt: MIGE's edit / subject / compose (subject-driven editing) prefixes, or as is. */
export type InstructionTask = 'edit' | 'subject' | 'compose' | 'raw';

/** One multimodal instruction, ready for the encoder's networks. */
export interface EncoderInput {
  /** The instruction, with one `<imagehere>` per image, in order. */
  text: string;
  /** Overrides the call's `task` for this item. */
  task?: InstructionTask;
  /** Its images preprocessed for the ViT (normalised, S×S): [n, 3, S, S], n = 0…4. */
  images: ImageBatch;
  /** Their VAE latents [n, 4, h, w], UNSCALED (the mean, no 0.18215). */
  latents: Latents;
}

export interface InstructionEncodeOptions {
  /** Fuses the image tokens with the latents (MIGE's FFM, or none). */
  fusion: FeatureFusion;
  /** The backbone's patch embedder, which fusion uses on the latents. */
  patchEmbedder: PatchEmbedder;
  /** How prompts are built for items without their own `task` (default `raw`: the text as is). */
  task?: InstructionTask;
}

export interface InstructionEncoding {
  /** Condition tokens [B, L, D], L = the encoder's maxLength. */
  y: TokenSequence;
  /** [B, L] int32: 1 for content, 0 for padding. */
  mask: TokenMask;
  /** Non-fatal problems, such as `batch[2]: … truncated …`. */
  warnings: string[];
}

/** The multimodal instruction encoder as pipelines see it: instructions → condition y + mask. */
export interface InstructionEncoder {
  /** The encoder's module tree (parameters, state dict). */
  readonly module: Module;
  /** D: the width of y (the backbone's caption channels). */
  readonly hiddenSize: number;
  /** L: every y has this many tokens. */
  readonly maxLength: number;
  encode(batch: readonly EncoderInput[], options: InstructionEncodeOptions): InstructionEncoding;
}
