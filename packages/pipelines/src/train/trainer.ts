import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { checkAbort, MigeInputError, tf, type ProgressCallback } from '@mige/core';
import { DitBackbone } from '@mige/dit';
import { TaskSampler, type TaskSamplerState } from '@mige/data';
import type { MigeModel } from '../model/index.js';
import { readCheckpoint, writeCheckpoint } from './checkpoint-io.js';
import { createTrainLogger } from './progress-log.js';
import { resolveTrainConfig, type TrainConfig } from './train-config.js';
import { TRAIN_TASKS, type TrainDataset, type TrainTask } from './train-data.js';
import { TRAIN_ENGINES, type TrainEngineName, type TrainStepEngine } from './engine.js';
import { OnnxEngine } from './onnx/trainer-engine.js';
import type { OnnxEngineOptions } from './onnx/engine.js';
import { prepareRunFolder } from './resume-policy.js';
import { TfjsEngine } from './tfjs-engine.js';

export interface TrainOptions {
  model: MigeModel;
  dataset: TrainDataset;
  /** Checkpoints (`step-XXXXXXXX/`, `latest.json`) and `metrics.jsonl` go here. */
  outDir: string;
  config?: Partial<TrainConfig>;
  /** Continue from `outDir`'s latest checkpoint when there is one (written by either engine). */
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
   * What computes the steps (default 'onnx' for DiT backbones, else 'tfjs'):
   * - 'onnx': ONNX Runtime runs one differentiated graph of the whole loss per micro-batch; the
   *   fast engine on a CPU or a GPU (`threads`, `executionProviders`).
   * - 'tfjs': TF.js autodiff through the model's own modules: any backbone, the reference the
   *   ONNX gradients are checked against, and the browser's engine (`workers`).
   * Both draw the same data, noise and dropout per step and write the same checkpoints.
   */
  engine?: TrainEngineName;
  /** ONNX engine: ONNX Runtime's intra-op threads (default 1). */
  threads?: number;
  /**
   * ONNX engine: prepare the next micro-batch (examples, frozen VAE and ViT, draws) while the
   * graph runs, on another core (default false). The results are the same.
   */
  prefetch?: boolean;
  /** ONNX engine: execution providers in order of preference (default ['cpu']), e.g. [{ name: 'cuda' }, 'cpu']. */
  executionProviders?: OnnxEngineOptions['executionProviders'];
  /**
   * TF.js engine: threads to train on (default 1). tfjs-wasm computes on one core: with N > 1,
   * each step's micro-batches are split item-wise over N threads (each holds a copy of the model)
   * and the gradients added up, so a step costs about 1/N of the time. The draws do not depend on
   * N: the result is the one-thread run's up to float summation order, and resuming with another
   * N works. Needs batchSize >= N and a dataset with a `source` (the built-in datasets have one).
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
  /** The engine that ran the steps. */
  engine: TrainEngineName;
}

/** What state.json holds: enough to continue exactly. */
interface TrainState {
  step: number;
  sampler: TaskSamplerState;
  config: TrainConfig;
  model: string;
  /** The engine that wrote the checkpoint (absent in checkpoints from before engines). */
  engine?: TrainEngineName;
}

function activeRatios(dataset: TrainDataset, ratios: Record<TrainTask, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const t of TRAIN_TASKS) if ((dataset.sizes[t] ?? 0) > 0 && ratios[t] > 0) out[t] = ratios[t];
  if (Object.keys(out).length === 0) throw new MigeInputError(`no task group has both data and a ratio > 0 (sizes ${JSON.stringify(dataset.sizes)})`, 'train');
  return out;
}

/** The engine a run uses: the one asked for, else ONNX Runtime for DiT backbones and TF.js for any other. */
export function defaultTrainEngine(model: MigeModel, engine?: TrainEngineName): TrainEngineName {
  if (engine !== undefined) {
    if (!TRAIN_ENGINES.includes(engine)) throw new MigeInputError(`engine must be one of ${TRAIN_ENGINES.join(', ')}, got ${JSON.stringify(engine)}`, 'train');
    return engine;
  }
  return model.backbone instanceof DitBackbone ? 'onnx' : 'tfjs';
}

async function createEngine(options: TrainOptions, cfg: TrainConfig, name: TrainEngineName): Promise<TrainStepEngine> {
  const { model, dataset } = options;
  if (name === 'tfjs') {
    if (options.threads !== undefined || options.executionProviders || options.prefetch !== undefined) throw new MigeInputError('threads, prefetch and executionProviders apply to the ONNX engine; the TF.js engine takes workers', 'train');
    return TfjsEngine.create(model, dataset, cfg, options.workers ?? 1);
  }
  if ((options.workers ?? 1) > 1) throw new MigeInputError('workers apply to the TF.js engine; the ONNX engine uses threads', 'train');
  return OnnxEngine.create(model, dataset, cfg, {
    ...(options.threads !== undefined ? { threads: options.threads } : {}),
    ...(options.prefetch !== undefined ? { prefetch: options.prefetch } : {}),
    ...(options.executionProviders ? { executionProviders: options.executionProviders } : {}),
  });
}

/**
 * MIGE's joint training loop: per step, `gradAccumSteps` micro-batches drawn by the task
 * sampler, VAE latents (frozen), condition dropout, IDDPM hybrid loss, AdamW on every
 * trainable parameter (the ViT and VAE stay frozen), optional EMA, atomic checkpoints.
 * Every random draw of step s comes from Rng(seed) forked by s, so a resumed run continues
 * bit-exactly. The steps run on an engine (ONNX Runtime or TF.js, `options.engine`); the loop,
 * the draws and the checkpoints are the same on both.
 */
export async function train(options: TrainOptions): Promise<TrainResult> {
  const { model, dataset, outDir } = options;
  const cfg = resolveTrainConfig(options.config);
  const engineName = defaultTrainEngine(model, options.engine);
  let sampler = new TaskSampler(dataset.sizes, activeRatios(dataset, cfg.taskRatios), cfg.seed);
  // Refuses an unwritable folder, an unasked-for overwrite or changed settings; trims metrics.jsonl.
  prepareRunFolder({ outDir, resume: options.resume ?? false, allowChanges: options.allowChanges ?? false, config: cfg, model: model.config.name, datasetSizes: dataset.sizes });
  const engine = await createEngine(options, cfg, engineName);
  let step = 0;
  let checkpoint = '';
  let logger: ReturnType<typeof createTrainLogger> | null = null;
  const losses: number[] = [];
  try {
    if (options.resume && existsSync(join(outDir, 'latest.json'))) {
      const ck = await readCheckpoint(outDir);
      try {
        const state = ck.state as TrainState;
        engine.load(ck, state.step);
        sampler = TaskSampler.fromState(state.sampler);
        step = state.step;
        checkpoint = ck.path;
      } finally {
        tf.dispose([...ck.model.values(), ...ck.optimizer.values(), ...(ck.ema ? ck.ema.values() : [])]);
      }
    }
    logger = createTrainLogger({ stream: options.log ?? process.stderr, total: cfg.steps, metricsFile: join(outDir, 'metrics.jsonl'), mode: options.logMode ?? 'auto', startStep: step });
    const save = async () => {
      const state: TrainState = { step, sampler: sampler.state(), config: cfg, model: model.config.name, engine: engineName };
      const contents = engine.state();
      try {
        checkpoint = await writeCheckpoint(outDir, {
          step, model: contents.model, optimizer: contents.optimizer, ...(contents.ema ? { ema: contents.ema } : {}), state,
        }, { keepLast: cfg.keepLast });
      } finally {
        contents.release();
      }
    };
    const started = performance.now();
    const startStep = step;
    const last = Math.min(cfg.steps, options.stopAt ?? cfg.steps);
    while (step < last) {
      try {
        checkAbort(options.signal, 'train', step);
      } catch (e) {
        if (step > startStep) await save();
        throw e;
      }
      const micros = Array.from({ length: cfg.gradAccumSteps }, () => sampler.take(cfg.batchSize));
      // The next step's draws, without consuming them (a copy of the sampler draws them).
      const next = step + 1 < last ? () => {
        const ahead = TaskSampler.fromState(sampler.state());
        return Array.from({ length: cfg.gradAccumSteps }, () => ahead.take(cfg.batchSize));
      } : undefined;
      const { loss, gradNorm, lr, timings } = await engine.step(step, micros, next);
      step++;
      if (!Number.isFinite(loss)) throw new MigeInputError(`the loss is ${loss} at step ${step}: lower the learning rate or check the data`, 'train');
      losses.push(loss);
      const elapsed = (performance.now() - started) / 1000;
      const rate = (step - startStep) / elapsed;
      options.onProgress?.({ stage: 'train', step, total: cfg.steps, elapsedMs: elapsed * 1000, etaMs: ((cfg.steps - step) / rate) * 1000, rate, info: { loss, lr, grad_norm: gradNorm, ...timings } });
      if (step % cfg.logEvery === 0 || step === last) logger.log(step, { loss, lr, grad_norm: gradNorm });
      if (step % cfg.checkpointEvery === 0 || step === last) await save();
      await new Promise((r) => setImmediate(r));
    }
  } finally {
    await engine.finish();
    logger?.close();
  }
  return { step, losses, checkpoint, engine: engineName };
}
