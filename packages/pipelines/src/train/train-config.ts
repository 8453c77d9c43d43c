import { MigeInputError } from '@mige/core';
import { MIGE_CFG_DROPOUT } from './cfg-dropout.js';
import type { LatentMode } from '../model/index.js';
import type { MseTarget } from '../loss/index.js';
import type { TrainTask } from './train-data.js';
import type { DropoutConfig } from './train-step.js';
import type { FocusOn } from './edit-focus.js';

/** A training run's settings: plain data, saved with every checkpoint. */
export interface TrainConfig {
  /** Optimizer steps in total. */
  steps: number;
  /** Examples per micro-batch. */
  batchSize: number;
  /** Micro-batches whose gradients are averaged per optimizer step. */
  gradAccumSteps: number;
  lr: number;
  weightDecay: number;
  betas: [number, number];
  eps: number;
  /** Linear warm-up of the learning rate from 0 over this many steps. */
  warmupSteps: number;
  /** After the warm-up: constant (the reference) or a cosine decay to minLrRatio · lr at the last step. */
  lrSchedule: 'constant' | 'cosine';
  minLrRatio: number;
  /** Clip the global gradient norm to this (null: no clipping). */
  maxGradNorm: number | null;
  /** Keep an exponential moving average of the weights with this decay (null: none). */
  emaDecay: number | null;
  /**
   * Warm the EMA up: decay min(emaDecay, (1 + s) / (10 + s)) at step s, as diffusers' EMAModel.
   * Without it (the reference) the shadow keeps decay^s of the initial weights: at 0.9995, 10%
   * after 4,500 steps, which matters for short runs.
   */
  emaWarmup: boolean;
  /**
   * What the loss's mse term compares: 'eps' (MIGE), 'snr' (PixArt's snr option) or 'v'; null:
   * the model's own ('v' for a v-prediction model, else 'eps'). See HybridLossOptions.
   */
  mse: MseTarget | null;
  /** Caps the 'v' loss's weight 1/ᾱ_t (null: no cap). */
  mseMaxWeight: number | null;
  /** Extra mse weight on what an edit changes (editFocusWeights; 0: uniform, as the reference). */
  editFocus: number;
  /** Which cells editFocus weighs up (FocusOn). */
  editFocusOn: FocusOn;
  /**
   * editFocus applies only to items drawn at a timestep below this (1000: all). At low noise x_t
   * already shows where the edit is, so weighing it up sharpens the edited object (its shape)
   * without teaching the model to change cells it is unsure of, which is what focus at high
   * noise does (RUNS.md).
   */
  editFocusBelow: number;
  /**
   * Timesteps are drawn with density ∝ t^(k − 1): 1 is uniform (the reference); k > 1
   * favours high noise, where an edit's colours and shapes are decided. Unlike a loss weight that
   * depends on the target, this leaves each timestep's optimum unchanged.
   */
  timestepPower: number;
  dropout: DropoutConfig;
  /** Relative weights of the task groups (groups without data are left out). */
  taskRatios: Record<TrainTask, number>;
  seed: number;
  latents: LatentMode;
  /** Write a checkpoint every this many steps (and always at the end). */
  checkpointEvery: number;
  /** Checkpoints kept (older ones are pruned). */
  keepLast: number;
  /** Log every this many steps. */
  logEvery: number;
}

/**
 * MIGE's settings (configs/config_mige.py): AdamW lr 1e-5, weight decay 0.03, eps 1e-10,
 * 1000 warm-up steps, batch 8, CFG dropout 5/5/5 % plus the y_embedder's own 10 % caption drop;
 * task groups: subject : edit 1 : 1, compositional add : replace 1 : 1.
 */
export const REFERENCE_TRAIN_CONFIG: Readonly<TrainConfig> = Object.freeze({
  steps: 1000,
  batchSize: 8,
  gradAccumSteps: 1,
  lr: 1e-5,
  weightDecay: 0.03,
  betas: [0.9, 0.999] as [number, number],
  eps: 1e-10,
  warmupSteps: 1000,
  lrSchedule: 'constant',
  minLrRatio: 0,
  maxGradNorm: null,
  emaDecay: null,
  emaWarmup: false,
  mse: null,
  mseMaxWeight: null,
  editFocus: 0,
  editFocusOn: 'changed',
  editFocusBelow: 1000,
  timestepPower: 1,
  dropout: { ...MIGE_CFG_DROPOUT, caption: 0.1 },
  taskRatios: { subject: 1, edit: 1, add: 0.5, replace: 0.5 },
  seed: 0,
  latents: 'sample',
  checkpointEvery: 500,
  keepLast: 3,
  logEvery: 10,
});

/** The reference config with `overrides`, checked field by field. */
export function resolveTrainConfig(overrides: Partial<TrainConfig> = {}): TrainConfig {
  const c: TrainConfig = {
    ...REFERENCE_TRAIN_CONFIG,
    ...overrides,
    dropout: { ...REFERENCE_TRAIN_CONFIG.dropout, ...overrides.dropout },
    taskRatios: { ...REFERENCE_TRAIN_CONFIG.taskRatios, ...overrides.taskRatios },
  };
  const where = 'train config';
  const int = (k: 'steps' | 'batchSize' | 'gradAccumSteps' | 'checkpointEvery' | 'keepLast' | 'logEvery', min: number) => {
    if (!Number.isInteger(c[k]) || c[k] < min) throw new MigeInputError(`${k} must be an integer >= ${min}, got ${String(c[k])}`, where);
  };
  int('steps', 1);
  int('batchSize', 1);
  int('gradAccumSteps', 1);
  int('checkpointEvery', 1);
  int('keepLast', 1);
  int('logEvery', 1);
  if (!Number.isInteger(c.warmupSteps) || c.warmupSteps < 0) throw new MigeInputError(`warmupSteps must be an integer >= 0, got ${c.warmupSteps}`, where);
  if (c.lrSchedule !== 'constant' && c.lrSchedule !== 'cosine') throw new MigeInputError(`lrSchedule must be "constant" or "cosine", got ${JSON.stringify(c.lrSchedule)}`, where);
  if (!(c.minLrRatio >= 0 && c.minLrRatio <= 1)) throw new MigeInputError(`minLrRatio must be in [0, 1], got ${c.minLrRatio}`, where);
  if (!(c.lr > 0)) throw new MigeInputError(`lr must be positive, got ${c.lr}`, where);
  if (!(c.weightDecay >= 0)) throw new MigeInputError(`weightDecay must be >= 0, got ${c.weightDecay}`, where);
  if (!(c.eps > 0)) throw new MigeInputError(`eps must be positive, got ${c.eps}`, where);
  if (!Array.isArray(c.betas) || c.betas.length !== 2 || !c.betas.every((b) => b >= 0 && b < 1)) throw new MigeInputError(`betas must be two numbers in [0, 1), got ${JSON.stringify(c.betas)}`, where);
  if (c.maxGradNorm !== null && !(c.maxGradNorm > 0)) throw new MigeInputError(`maxGradNorm must be positive or null, got ${c.maxGradNorm}`, where);
  if (typeof c.emaWarmup !== 'boolean') throw new MigeInputError(`emaWarmup must be true or false, got ${JSON.stringify(c.emaWarmup)}`, where);
  if (c.mseMaxWeight !== null && !(c.mseMaxWeight >= 1)) throw new MigeInputError(`mseMaxWeight must be >= 1 or null, got ${c.mseMaxWeight}`, where);
  if (!(typeof c.editFocus === 'number' && c.editFocus >= 0 && Number.isFinite(c.editFocus))) throw new MigeInputError(`editFocus must be a finite number >= 0, got ${String(c.editFocus)}`, where);
  if (c.editFocusOn !== 'changed' && c.editFocusOn !== 'objects') throw new MigeInputError(`editFocusOn must be "changed" or "objects", got ${JSON.stringify(c.editFocusOn)}`, where);
  if (!(Number.isInteger(c.editFocusBelow) && c.editFocusBelow >= 1 && c.editFocusBelow <= 1000)) throw new MigeInputError(`editFocusBelow must be an integer timestep in [1, 1000], got ${String(c.editFocusBelow)}`, where);
  if (!(typeof c.timestepPower === 'number' && c.timestepPower >= 1 && c.timestepPower <= 8)) throw new MigeInputError(`timestepPower must be a number in [1, 8], got ${String(c.timestepPower)}`, where);
  if (c.mse !== null && !['eps', 'snr', 'v'].includes(c.mse)) throw new MigeInputError(`mse must be "eps", "snr" or "v", got ${JSON.stringify(c.mse)}`, where);
  if (c.emaDecay !== null && !(c.emaDecay > 0 && c.emaDecay < 1)) throw new MigeInputError(`emaDecay must be in (0, 1) or null, got ${c.emaDecay}`, where);
  if (!Number.isSafeInteger(c.seed) || c.seed < 0) throw new MigeInputError(`seed must be a non-negative integer, got ${c.seed}`, where);
  if (c.latents !== 'sample' && c.latents !== 'mean') throw new MigeInputError(`latents must be "sample" or "mean", got ${JSON.stringify(c.latents)}`, where);
  for (const [task, r] of Object.entries(c.taskRatios)) {
    if (!(typeof r === 'number' && r >= 0 && Number.isFinite(r))) throw new MigeInputError(`taskRatios.${task} must be a finite number >= 0, got ${String(r)}`, where);
  }
  return c;
}
