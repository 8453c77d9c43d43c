import type { tf } from '@mige/core';
import type { TaskDraw } from '@mige/data';
import type { LoadedCheckpoint } from './checkpoint-io.js';

/** The engines `train` runs on: 'onnx' (ONNX Runtime) or 'tfjs' (TF.js, the reference and the browser's). */
export type TrainEngineName = 'onnx' | 'tfjs';
export const TRAIN_ENGINES: readonly TrainEngineName[] = ['onnx', 'tfjs'];

/** What one optimizer step reports. */
export interface EngineStepResult {
  /** The mean loss over the step's micro-batches. */
  loss: number;
  /** The global gradient norm before clipping. */
  gradNorm: number;
  lr: number;
  /**
   * Where the step's time went, in ms (engines that measure it): `data_ms` (examples, frozen VAE
   * and ViT, draws), `graph_ms` (forward and backward), `build_ms` (graphs built for new shapes),
   * `optimizer_ms` (AdamW and EMA).
   */
  timings?: Record<string, number>;
}

/** Model, optimizer and EMA state under the checkpoint names; `release` frees what was made for it. */
export interface EngineState {
  model: Map<string, tf.Tensor>;
  optimizer: Map<string, tf.Tensor>;
  ema?: Map<string, tf.Tensor>;
  release(): void;
}

/**
 * One training engine: the gradients, AdamW and EMA of each optimizer step, and the state a
 * checkpoint holds. The loop around it (`train`: sampler, schedule, logging, checkpoints,
 * cancellation) is the same for every engine, and so is the checkpoint format: a checkpoint
 * written on one engine resumes on the other.
 */
export interface TrainStepEngine {
  readonly name: TrainEngineName;
  /**
   * Optimizer step `step` (0-based) over these micro-batches. `next`, when the run has a next
   * step, gives its draws (without consuming them), for engines that prepare data ahead.
   */
  step(step: number, micros: readonly (readonly TaskDraw[])[], next?: () => readonly (readonly TaskDraw[])[]): Promise<EngineStepResult>;
  state(): EngineState;
  /** Continues from a checkpoint taken after `step` optimizer steps. */
  load(ck: LoadedCheckpoint, step: number): void;
  /** Leaves the trained weights in the model's TF.js variables and frees the engine. */
  finish(): Promise<void>;
}
