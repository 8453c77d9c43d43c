/**
 * The playground's HTTP API as types, shared by the server and the UI (type-only imports, so the
 * UI bundle stays free of server code).
 */
import type { FlowRequest, GenerationParams, RequestLimits } from '@mige/pipelines';

export type FlowName = 'generate' | 'edit' | 'compose';
export const FLOW_NAMES: readonly FlowName[] = ['generate', 'edit', 'compose'];

/** Sampler names the API accepts: DPM-Solver++ (order 2, time-uniform, the reference's), DDIM (η = 0), DDPM. */
export type SamplerName = 'dpm-solver' | 'ddim' | 'ddpm';
export const SAMPLER_NAMES: readonly SamplerName[] = ['dpm-solver', 'ddim', 'ddpm'];

/** The literal the instruction uses for each image, in order. */
export const PLACEHOLDER = '<imagehere>';

export function countPlaceholders(text: string): number {
  return text.split(PLACEHOLDER).length - 1;
}

/**
 * POST /api/jobs: pipelines' FlowRequest (the job queue and `mige batch` take the same). `images`
 * are PNG or JPEG data URLs in the instruction's placeholder order. The source of edit / compose
 * is either `images[sourceSlot]` (default slot 0), or `source` when it is not one of the
 * instruction's images.
 */
export interface JobRequest extends FlowRequest {
  /**
   * Cancel the job when the last event stream watching it closes (default true: a closed browser
   * tab stops spending the model). Send false from a client that polls GET /api/jobs/:id or may
   * drop its stream; a job no stream ever watched is never cancelled by a disconnect.
   */
  cancelOnDisconnect?: boolean;
}

export interface JobAccepted {
  id: string;
  /** 0: running now; k: k-th in line. */
  position: number;
}

export type JobState = 'queued' | 'running' | 'done' | 'error' | 'cancelled';

export interface JobStatus {
  id: string;
  state: JobState;
  position: number | null;
  /** Once the job has finished: its final event (done with the images, error or cancelled). */
  result?: JobEvent;
}

/** Server-Sent Events of GET /api/jobs/:id/events; the SSE event name is `type`. */
export type JobEvent =
  | { type: 'queued'; position: number }
  | { type: 'progress'; step: number; total: number }
  | { type: 'preview'; step: number; images: string[] }
  | { type: 'done'; images: string[]; params: GenerationParams[]; warnings: string[]; seconds: number }
  | { type: 'error'; message: string }
  | { type: 'cancelled'; reason: string };

export const TERMINAL_EVENTS: readonly JobEvent['type'][] = ['done', 'error', 'cancelled'];

/** Limits every request is checked against (GET /api/info shows them): pipelines' RequestLimits and the server's own. */
export interface PlaygroundLimits extends RequestLimits {
  /** Largest request body, bytes (HTTP 413 above). */
  maxBodyBytes: number;
  /** Jobs waiting behind the running one (HTTP 429 above). */
  maxQueue: number;
  /** Bytes the images of waiting and running jobs may hold together, after downscaling (HTTP 429 above). */
  maxQueueBytes: number;
}

export interface FlowDefaultsInfo {
  steps: number;
  scales: { y: number; s: number };
  /** The model's default sampler (its sampling.json, else the reference's DPM-Solver++). */
  sampler: SamplerName;
}

export type PresetId = 'generate' | 'edit' | 'add' | 'replace';

export interface PresetExample {
  /** The synthetic world's task that made it (subject, recolor, compose_add, ...). */
  task: string;
  instruction: string;
  images: string[];
  /** Which image is the source (edit / compose). */
  sourceSlot?: number;
  /** The world's ground truth for this example. */
  target: string;
}

export interface Preset {
  id: PresetId;
  label: string;
  flow: FlowName;
  description: string;
  examples: PresetExample[];
}

export interface InfoResponse {
  model: {
    name: string;
    imageSize: number;
    /** What to pass as `mige --model` for the same model; null for the shipped default. */
    cliArg: string | null;
  };
  limits: PlaygroundLimits;
  defaults: Record<FlowName, FlowDefaultsInfo>;
  samplers: readonly SamplerName[];
  presets: Preset[];
}

export interface ErrorResponse {
  error: string;
}
