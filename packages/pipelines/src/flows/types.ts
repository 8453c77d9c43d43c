import type { ImageBatch, Latents, RgbImage } from '@mige/core';
import type { GuidanceScales, GuidanceType, SamplerConfig } from '../diffusion/index.js';
import type { FlowEngine } from './engine.js';

/** The three inference flows. */
export type FlowName = 'generate' | 'edit' | 'compose';

import type { LatentMode } from '../model/index.js';

/** Called after every solver step; `preview` (the current x0 prediction, decoded) arrives every `previewEvery` steps. */
export type StepCallback = (step: number, total: number, preview?: RgbImage[]) => void;

/** What `onStepEnd` sees after each solver step. */
export interface StepEnd {
  /** 1-based step number. */
  step: number;
  total: number;
  /** The model time of this step's network call (999 … 0 on the discrete scale). */
  t: number;
  /**
   * The sample after this step [N, C, h, w] (scaled latents, one row per image of the call):
   * valid during the callback only (clone it to keep it).
   */
  latents: Latents;
}

/**
 * Sees the latents after each step and may replace them: return a new tensor of the same shape
 * (the flow takes ownership and disposes it), e.g. `tf.mul(latents, 0.9)`, and sampling goes on
 * from it; return nothing to leave them. The result is as deterministic as the callback.
 */
export type StepEndCallback = (s: StepEnd) => Latents | void;

export interface FlowOptions {
  /** Solver steps (reference: 50 for generate, 60 for edit / compose). */
  steps?: number;
  /** s_y (instruction) and s_s (source) guidance scales (reference: y 7 for generate, y 5 / s 1 for edit and compose). */
  scales?: Partial<GuidanceScales>;
  /** Seed of the first image of a request without its own seed; image k of a request uses seed + k. Default 0. */
  seed?: number;
  /** Images per request. Default 1. */
  numImages?: number;
  /** Output side in pixels: must be the model's image size (its position table is fixed). */
  size?: number;
  /**
   * The sampler. One of the model's default type changes only the fields it names (like
   * `scales`); one of another type replaces the default.
   */
  sampler?: SamplerConfig;
  /**
   * How reference and source images become latents: 'sample' (mean + std·ε from each image's
   * seed, as MIGE does; the default) or 'mean'. (This option was called `latents` before.)
   */
  referenceLatents?: LatentMode;
  /**
   * The initial noise x_T [N, C, h, w] (scaled latents) for the call's N images (requests in
   * order, numImages each), instead of drawing it from each image's seed. The caller keeps it.
   */
  latents?: Latents;
  onStep?: StepCallback;
  /** After every step: sees the latents and may replace them (see StepEndCallback). */
  onStepEnd?: StepEndCallback;
  /** Decode a preview every this many steps (0 = never; a preview costs one VAE decode). */
  previewEvery?: number;
  signal?: AbortSignal;
  /**
   * Where the networks run: 'tfjs' (the model's modules on the TF.js backend), 'onnx' (ONNX
   * Runtime over the export attached to the model: attachOnnx, or a model folder's onnx/
   * subfolder as the CLI loads it) or any FlowEngine. Default: 'onnx' when the model has an
   * export attached, else 'tfjs'.
   */
  engine?: 'tfjs' | 'onnx' | FlowEngine;
}

/** Subject-driven generation: one `<imagehere>` per subject image, on a blank canvas. */
export interface GenerateRequest {
  instruction: string;
  images: RgbImage[];
  seed?: number;
}

/**
 * Instruction-based editing. The source is both the conditional input and the instruction's
 * image: an instruction without `<imagehere>` gets one as the reference's edit script adds it.
 */
export interface EditRequest {
  instruction: string;
  source: RgbImage;
  seed?: number;
}

/**
 * Instruction-based subject-driven editing (add / replace). The instruction holds one
 * `<imagehere>` per subject, or one more for the source: then the source takes slot
 * `sourceSlot` (default 0) and the subjects the other slots, in order.
 */
export interface ComposeRequest {
  instruction: string;
  source: RgbImage;
  subjects: RgbImage[];
  sourceSlot?: number;
  seed?: number;
}

/** Everything needed to make the same image again. */
export interface GenerationParams {
  flow: FlowName;
  model: string;
  instruction: string;
  /** The prompt the T5 encoder saw (task prefix, pre_caption, placeholders). */
  prompt: string;
  seed: number;
  steps: number;
  guidance: GuidanceType;
  scales: GuidanceScales;
  sampler: SamplerConfig;
  size: number;
  referenceLatents: LatentMode;
  /** 'given' when the call passed its own initial latents (x_T did not come from `seed`). */
  initialLatents?: 'given';
  backend: string;
  /** The engine that ran the networks ('tfjs', 'onnx'). */
  engine?: string;
}

export interface FlowImage {
  image: RgbImage;
  png: Buffer;
  params: GenerationParams;
}

export interface FlowResult {
  /** One per generated image: requests in order, numImages each. */
  images: FlowImage[];
  /** The decoded images [N, 3, H, W] in [-1, 1] (unclamped); the caller disposes it. */
  tensor: ImageBatch;
  warnings: string[];
}
