import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { checkAbort, MigeInputError, nn, Rng, tf, type ProgressCallback } from '@mige/core';
import { TaskSampler, type TaskSamplerState } from '@mige/data';
import type { MigeModel } from '../model/index.js';
import { readCheckpoint, writeCheckpoint } from './checkpoint-io.js';
import { editFocusWeights } from './edit-focus.js';
import { Ema } from './ema.js';
import { createTrainLogger } from './progress-log.js';
import { LatentCache } from './latent-cache.js';
import { disposeTrainBatch, prepareTrainBatch } from './train-batch.js';
import { resolveTrainConfig, type TrainConfig } from './train-config.js';
import { TRAIN_TASKS, type TrainDataset, type TrainTask } from './train-data.js';
import { batchLoss, drawStep } from './train-step.js';

export interface TrainOptions {
  model: MigeModel;
  dataset: TrainDataset;
  /** Checkpoints (`step-XXXXXXXX/`, `latest.json`) and `metrics.jsonl` go here. */
  outDir: string;
  config?: Partial<TrainConfig>;
  /** Continue from `outDir`'s latest checkpoint when there is one. */
  resume?: boolean;
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
  const s = model.latentSize();
  const latentShape: [number, number, number] = [model.vae.latentChannels, s, s];
  const logger = createTrainLogger({ stream: options.log ?? process.stderr, total: cfg.steps, metricsFile: join(outDir, 'metrics.jsonl'), mode: options.logMode ?? 'auto', startStep: step });
  const save = async () => {
    const state: TrainState = { step, sampler: sampler.state(), config: cfg, model: model.config.name };
    checkpoint = await writeCheckpoint(outDir, {
      step, model: model.stateDict(), optimizer: optimizer.stateDict(), ...(ema ? { ema: ema.stateDict() } : {}), state,
    }, { keepLast: cfg.keepLast });
  };
  // The VAE is frozen: each image's latent distribution is computed once per run.
  const latentCache = new LatentCache(model.vae);
  const losses: number[] = [];
  const started = performance.now();
  const startStep = step;
  try {
    const last = Math.min(cfg.steps, options.stopAt ?? cfg.steps);
    while (step < last) {
      try {
        checkAbort(options.signal, 'train', step);
      } catch (e) {
        if (step > startStep) await save();
        throw e;
      }
      let lossSum = 0;
      let acc: Record<string, tf.Tensor> | null = null;
      for (let micro = 0; micro < cfg.gradAccumSteps; micro++) {
        const draws = sampler.take(cfg.batchSize);
        const examples = await Promise.all(draws.map((d) => dataset.get(d.task as TrainTask, d.index)));
        const rng = new Rng(cfg.seed).fork(`step/${step}/${micro}`);
        const batch = prepareTrainBatch(model, examples, rng.fork('latents'), cfg.latents, latentCache);
        const stepDraws = drawStep(rng, examples.length, latentShape, 1000, cfg.dropout, cfg.timestepPower);
        // Items that condition dropout left without their instruction or source stay uniform: their
        // weights could only say where the (unknown) edit is. So do items at or above editFocusBelow.
        const focus = cfg.editFocus > 0
          ? editFocusWeights(examples, latentShape[1], cfg.editFocus, {
            on: cfg.editFocusOn,
            skip: stepDraws.dropY.map((d, i) => d || (stepDraws.dropSource[i] ?? false) || (stepDraws.t[i] as number) >= cfg.editFocusBelow),
          })
          : null;
        try {
          const { value, grads } = tf.variableGrads(() => batchLoss(model, batch, stepDraws, {
            mse: cfg.mse ?? (model.config.prediction === 'v' ? 'v' : 'eps'),
            ...(cfg.mseMaxWeight !== null ? { maxWeight: cfg.mseMaxWeight } : {}),
            ...(focus ? { weight: focus } : {}),
          }), params.map(([, p]) => p));
          lossSum += value.dataSync()[0] as number;
          value.dispose();
          acc = accumulate(acc, grads, cfg.gradAccumSteps);
        } finally {
          disposeTrainBatch(batch);
          stepDraws.noise.dispose();
          focus?.dispose();
        }
      }
      const grads = Object.fromEntries(Object.entries(acc ?? {}).map(([v, g]) => [nameOf.get(v) as string, g]));
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
    logger.close();
    optimizer.dispose();
    ema?.dispose();
  }
  return { step, losses, checkpoint };
}

/** Running mean of micro-batch gradients (each divided by the number of micro-batches). */
function accumulate(acc: Record<string, tf.Tensor> | null, grads: Record<string, tf.Tensor>, n: number): Record<string, tf.Tensor> {
  const out: Record<string, tf.Tensor> = {};
  for (const [k, g] of Object.entries(grads)) {
    const scaled = n === 1 ? g : tf.tidy(() => tf.div(g, n));
    if (n !== 1) g.dispose();
    const prev = acc?.[k];
    out[k] = prev ? tf.tidy(() => tf.add(prev, scaled)) : scaled;
    if (prev) {
      prev.dispose();
      scaled.dispose();
    }
  }
  return out;
}
