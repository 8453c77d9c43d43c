import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { checkAbort, MigeInputError, nn, tf, type ProgressCallback } from '@mige/core';
import { TaskSampler, type TaskSamplerState } from '@mige/data';
import type { MigeModel } from '../model/index.js';
import { readCheckpoint, writeCheckpoint } from './checkpoint-io.js';
import { Ema } from './ema.js';
import { createTrainLogger } from './progress-log.js';
import { LatentCache } from './latent-cache.js';
import { shareGradients, type GradientContext } from './micro-batch.js';
import { resolveTrainConfig, type TrainConfig } from './train-config.js';
import { TRAIN_TASKS, type TrainDataset, type TrainTask } from './train-data.js';
import { TrainWorkers } from './train-workers.js';
import { prepareRunFolder } from './resume-policy.js';

export interface TrainOptions {
  model: MigeModel;
  dataset: TrainDataset;
  /** Checkpoints (`step-XXXXXXXX/`, `latest.json`) and `metrics.jsonl` go here. */
  outDir: string;
  config?: Partial<TrainConfig>;
  /** Continue from `outDir`'s latest checkpoint when there is one. */
  resume?: boolean;
  /** Resume even with settings that differ from the checkpoint's (recorded in resume-changes.jsonl); see resume-policy.ts. */
  allowChanges?: boolean;
  /** Where progress goes: a bar on a TTY, JSON lines otherwise. Default: process.stderr. */
  log?: NodeJS.WritableStream & { isTTY?: boolean };
  logMode?: 'auto' | 'bar' | 'jsonl';
  onProgress?: ProgressCallback;
  /** Stops after the current step; a checkpoint of the finished steps is written first. */
  signal?: AbortSignal;
  /**
   * Stop (with a checkpoint) once this step is done, while the schedule still spans
   * `config.steps`: a run continued later with a longer `steps` then repeats exactly what a run
   * that stopped here did (RUNS.md records the default model's stages this way).
   */
  stopAt?: number;
  /**
   * Threads to train on (default 1). tfjs-wasm computes on one core: with N > 1, each step's
   * micro-batches are split item-wise over N threads (each holds a copy of the model) and the
   * gradients added up, so a step costs about 1/N of the time. The draws do not depend on N: the
   * result is the one-thread run's up to float summation order, and resuming with another N works.
   * Needs batchSize >= N and a dataset with a `source` (the built-in datasets have one).
   */
  workers?: number;
}

export interface TrainResult {
  /** Optimizer steps done in total (including those before a resume). */
  step: number;
  /** The mean loss of every optimizer step run in this call. */
  losses: number[];
  /** The last checkpoint folder written. */
  checkpoint: string;
}

/** What state.json holds: enough to continue exactly. */
interface TrainState {
  step: number;
  sampler: TaskSamplerState;
  config: TrainConfig;
  model: string;
}

function activeRatios(dataset: TrainDataset, ratios: Record<TrainTask, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const t of TRAIN_TASKS) if ((dataset.sizes[t] ?? 0) > 0 && ratios[t] > 0) out[t] = ratios[t];
  if (Object.keys(out).length === 0) throw new MigeInputError(`no task group has both data and a ratio > 0 (sizes ${JSON.stringify(dataset.sizes)})`, 'train');
  return out;
}

/** diffusers EMAModel's decay at optimizer step `step` (0-based): (1 + s) / (10 + s), capped. */
export function emaWarmupDecay(decay: number, step: number): number {
  return Math.min(decay, (1 + step) / (10 + step));
}

/**
 * MIGE's joint training loop: per step, `gradAccumSteps` micro-batches drawn by the task
 * sampler, VAE latents (frozen), condition dropout, IDDPM hybrid loss, AdamW on every
 * trainable parameter (the ViT and VAE stay frozen), optional EMA, atomic checkpoints.
 * Every random draw of step s comes from Rng(seed) forked by s, so a resumed run continues
 * bit-exactly.
 */
export async function train(options: TrainOptions): Promise<TrainResult> {
  const { model, dataset, outDir } = options;
  const cfg = resolveTrainConfig(options.config);
  const params = model.trainableParameters();
  const nameOf = new Map(params.map(([n, p]) => [p.name, n]));
  const optimizer = new nn.AdamW(params, {
    lr: cfg.lr, betas: cfg.betas, eps: cfg.eps, weightDecay: cfg.weightDecay, warmupSteps: cfg.warmupSteps,
    ...(cfg.lrSchedule === 'cosine' ? { cosineDecaySteps: cfg.steps, minLrRatio: cfg.minLrRatio } : {}),
    ...(cfg.maxGradNorm !== null ? { maxGradNorm: cfg.maxGradNorm } : {}),
  });
  const ema = cfg.emaDecay !== null ? new Ema(params, cfg.emaDecay) : null;
  let sampler = new TaskSampler(dataset.sizes, activeRatios(dataset, cfg.taskRatios), cfg.seed);
  let step = 0;
  let checkpoint = '';
  // Refuses an unwritable folder, an unasked-for overwrite or changed settings; trims metrics.jsonl.
  prepareRunFolder({ outDir, resume: options.resume ?? false, allowChanges: options.allowChanges ?? false, config: cfg, model: model.config.name, datasetSizes: dataset.sizes });
  if (options.resume && existsSync(join(outDir, 'latest.json'))) {
    const ck = await readCheckpoint(outDir);
    const state = ck.state as TrainState;
    model.loadStateDict(ck.model, { strict: true, source: join(outDir, 'latest.json') });
    optimizer.loadStateDict(ck.optimizer, state.step);
    if (ema && ck.ema) ema.loadStateDict(ck.ema);
    sampler = TaskSampler.fromState(state.sampler);
    step = state.step;
    checkpoint = ck.path;
    tf.dispose([...ck.model.values(), ...ck.optimizer.values(), ...(ck.ema ? ck.ema.values() : [])]);
  }
  const logger = createTrainLogger({ stream: options.log ?? process.stderr, total: cfg.steps, metricsFile: join(outDir, 'metrics.jsonl'), mode: options.logMode ?? 'auto', startStep: step });
  const save = async () => {
    const state: TrainState = { step, sampler: sampler.state(), config: cfg, model: model.config.name };
    checkpoint = await writeCheckpoint(outDir, {
      step, model: model.stateDict(), optimizer: optimizer.stateDict(), ...(ema ? { ema: ema.stateDict() } : {}), state,
    }, { keepLast: cfg.keepLast });
  };
  // The VAE is frozen: each image's latent distribution is computed once per run.
  const ctx: GradientContext = { model, params, dataset, cfg, latents: new LatentCache(model.vae) };
  const workers = options.workers ?? 1;
  let pool: TrainWorkers | null = null;
  const losses: number[] = [];
  const started = performance.now();
  const startStep = step;
  try {
    if (workers > 1) pool = await TrainWorkers.start(model, dataset, cfg, workers);
    const last = Math.min(cfg.steps, options.stopAt ?? cfg.steps);
    while (step < last) {
      try {
        checkAbort(options.signal, 'train', step);
      } catch (e) {
        if (step > startStep) await save();
        throw e;
      }
      const micros = Array.from({ length: cfg.gradAccumSteps }, () => sampler.take(cfg.batchSize));
      // Workers start on their shares first; the main thread computes share 0 meanwhile.
      const others = pool ? pool.dispatch(step, micros) : null;
      others?.catch(() => undefined); // awaited below; a failure of share 0 must not leave it unhandled
      const own = await shareGradients(ctx, step, micros, workers, 0);
      let lossSum = own.loss;
      let acc = own.grads;
      if (pool && others) {
        lossSum += await others;
        acc = pool.addGradients(acc);
      }
      const grads = Object.fromEntries(Object.entries(acc).map(([v, g]) => [nameOf.get(v) as string, g]));
      const { gradNorm, lr } = optimizer.apply(grads);
      tf.dispose(Object.values(grads));
      ema?.update(cfg.emaWarmup ? emaWarmupDecay(cfg.emaDecay as number, step) : undefined);
      step++;
      const loss = lossSum / cfg.gradAccumSteps;
      if (!Number.isFinite(loss)) throw new MigeInputError(`the loss is ${loss} at step ${step}: lower the learning rate or check the data`, 'train');
      losses.push(loss);
      const elapsed = (performance.now() - started) / 1000;
      const rate = (step - startStep) / elapsed;
      options.onProgress?.({ stage: 'train', step, total: cfg.steps, elapsedMs: elapsed * 1000, etaMs: ((cfg.steps - step) / rate) * 1000, rate, info: { loss, lr, grad_norm: gradNorm } });
      if (step % cfg.logEvery === 0 || step === last) logger.log(step, { loss, lr, grad_norm: gradNorm });
      if (step % cfg.checkpointEvery === 0 || step === last) await save();
      await new Promise((r) => setImmediate(r));
    }
  } finally {
    await pool?.dispose();
    logger.close();
    optimizer.dispose();
    ema?.dispose();
  }
  return { step, losses, checkpoint };
}
