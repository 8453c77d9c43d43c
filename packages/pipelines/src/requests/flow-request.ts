import type { RgbImage } from '@mige/core';
import type { FlowName, FlowOptions } from '../flows/index.js';

export const FLOW_NAMES: readonly FlowName[] = ['generate', 'edit', 'compose'];

/** Sampler names a request accepts: DPM-Solver++ (order 2, time-uniform, the reference's), DDIM (η = 0), DDPM. */
export type SamplerName = 'dpm-solver' | 'ddim' | 'ddpm';
export const SAMPLER_NAMES: readonly SamplerName[] = ['dpm-solver', 'ddim', 'ddpm'];

/**
 * One generate / edit / compose request as JSON: the playground's POST /api/jobs body, a line
 * of `mige batch`, a queued job. `images` are the instruction's images in placeholder order
 * (PNG or JPEG data URLs; a job queue may also accept references of its own). The source of
 * edit / compose is either `images[sourceSlot]` (default slot 0), or `source` when it is not
 * one of the instruction's images. Omitted settings take the model's defaults.
 */
export interface FlowRequest {
  flow: FlowName;
  instruction: string;
  images: string[];
  source?: string;
  sourceSlot?: number;
  steps?: number;
  scales?: { y?: number; s?: number };
  seed?: number;
  numImages?: number;
  sampler?: SamplerName;
}

/** A checked FlowRequest with its images decoded: everything a flow call needs. */
export interface FlowJob {
  flow: FlowName;
  instruction: string;
  /** The instruction's images in placeholder order. */
  images: RgbImage[];
  /** A source that is not one of the instruction's images. */
  source?: RgbImage;
  /** Which of `images` is the source (edit / compose without a separate source). */
  sourceSlot?: number;
  options: Required<Pick<FlowOptions, 'steps' | 'scales' | 'seed' | 'numImages' | 'sampler'>>;
}

/** What a request is checked against before any pixel is decoded or any step runs. */
export interface RequestLimits {
  /** Largest encoded image, bytes. */
  maxImageBytes: number;
  /** Largest image width and height, pixels. */
  maxImageSide: number;
  /** Largest width × height, pixels. */
  maxImagePixels: number;
  /** Images per request (the instruction's images plus a separate source). */
  maxImages: number;
  /** Instruction length, characters. */
  maxInstructionChars: number;
  maxSteps: number;
  maxNumImages: number;
  /** Largest |guidance scale|. */
  maxScale: number;
}

const MIB = 1024 * 1024;

/** Generous for one user, small enough that one request cannot exhaust memory. */
export const DEFAULT_REQUEST_LIMITS: Readonly<RequestLimits> = Object.freeze({
  maxImageBytes: 6 * MIB,
  maxImageSide: 4096,
  maxImagePixels: 16_000_000,
  maxImages: 4,
  maxInstructionChars: 1000,
  maxSteps: 200,
  maxNumImages: 4,
  maxScale: 50,
});
