import type { ImageBatch, RgbImage } from '@mige/core';
import type { GuidanceScales, GuidanceType, SamplerConfig } from '../diffusion/index.js';
import type { FlowEngine } from './engine.js';

/** The three inference flows. */
export type FlowName = 'generate' | 'edit' | 'compose';

import type { LatentMode } from '../model/index.js';

/** Called after every solver step; `preview` (the current x0 prediction, decoded) arrives every `previewEvery` steps. */
export type StepCallback = (step: number, total: number, preview?: RgbImage[]) => void;

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
  latents?: LatentMode;
  onStep?: StepCallback;
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
  latents: LatentMode;
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
