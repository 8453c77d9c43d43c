import { nn, tf } from '@mige/core';
import type { TaskDraw } from '@mige/data';
import type { MigeModel } from '../model/index.js';
import type { LoadedCheckpoint } from './checkpoint-io.js';
import { Ema } from './ema.js';
import type { EngineState, EngineStepResult, TrainStepEngine } from './engine.js';
import { LatentCache } from './latent-cache.js';
import { shareGradients, type GradientContext } from './micro-batch.js';
import type { TrainConfig } from './train-config.js';
import type { TrainDataset } from './train-data.js';
import { TrainWorkers } from './train-workers.js';

/** diffusers EMAModel's decay at optimizer step `step` (0-based): (1 + s) / (10 + s), capped. */
export function emaWarmupDecay(decay: number, step: number): number {
  return Math.min(decay, (1 + step) / (10 + step));
}

/** The AdamW config of a training run (warm-up, cosine decay, clipping). */
export function adamwConfig(cfg: TrainConfig): nn.AdamWConfig {
  return {
    lr: cfg.lr, betas: cfg.betas, eps: cfg.eps, weightDecay: cfg.weightDecay, warmupSteps: cfg.warmupSteps,
    ...(cfg.lrSchedule === 'cosine' ? { cosineDecaySteps: cfg.steps, minLrRatio: cfg.minLrRatio } : {}),
    ...(cfg.maxGradNorm !== null ? { maxGradNorm: cfg.maxGradNorm } : {}),
  };
}

/**
 * Training on TF.js: tf.variableGrads through the model's own modules, AdamW and EMA on tf
 * variables, and optionally `workers` threads that each take a share of every micro-batch.
 */
export class TfjsEngine implements TrainStepEngine {
  readonly name = 'tfjs';
  private constructor(
    private readonly ctx: GradientContext,
    private readonly optimizer: nn.AdamW,
    private readonly ema: Ema | null,
    private readonly workers: number,
    private readonly pool: TrainWorkers | null,
  ) {}

  static async create(model: MigeModel, dataset: TrainDataset, cfg: TrainConfig, workers = 1): Promise<TfjsEngine> {
    const params = model.trainableParameters();
    const optimizer = new nn.AdamW(params, adamwConfig(cfg));
    const ema = cfg.emaDecay !== null ? new Ema(params, cfg.emaDecay) : null;
    // The VAE is frozen: each image's latent distribution is computed once per run.
    const ctx: GradientContext = { model, params, dataset, cfg, latents: new LatentCache(model.vae) };
    try {
      const pool = workers > 1 ? await TrainWorkers.start(model, dataset, cfg, workers) : null;
      return new TfjsEngine(ctx, optimizer, ema, workers, pool);
    } catch (error) {
      optimizer.dispose();
      ema?.dispose();
      throw error;
    }
  }

  async step(step: number, micros: readonly (readonly TaskDraw[])[]): Promise<EngineStepResult> {
    const { cfg, params } = this.ctx;
    const nameOf = new Map(params.map(([n, p]) => [p.name, n]));
    // Workers start on their shares first; the main thread computes share 0 meanwhile.
    const others = this.pool ? this.pool.dispatch(step, micros as TaskDraw[][]) : null;
    others?.catch(() => undefined); // awaited below; a failure of share 0 must not leave it unhandled
    const own = await shareGradients(this.ctx, step, micros, this.workers, 0);
    let lossSum = own.loss;
    let acc = own.grads;
    if (this.pool && others) {
      lossSum += await others;
      acc = this.pool.addGradients(acc);
    }
    const grads = Object.fromEntries(Object.entries(acc).map(([v, g]) => [nameOf.get(v) as string, g]));
    const { gradNorm, lr } = this.optimizer.apply(grads);
    tf.dispose(Object.values(grads));
    this.ema?.update(cfg.emaWarmup ? emaWarmupDecay(cfg.emaDecay as number, step) : undefined);
    return { loss: lossSum / cfg.gradAccumSteps, gradNorm, lr };
  }

  state(): EngineState {
    return {
      model: this.ctx.model.stateDict(),
      optimizer: this.optimizer.stateDict(),
      ...(this.ema ? { ema: this.ema.stateDict() } : {}),
      release: () => undefined,
    };
  }

  load(ck: LoadedCheckpoint, step: number): void {
    this.ctx.model.loadStateDict(ck.model, { strict: true, source: ck.path });
    this.optimizer.loadStateDict(ck.optimizer, step);
    if (this.ema && ck.ema) this.ema.loadStateDict(ck.ema);
  }

  async finish(): Promise<void> {
    await this.pool?.dispose();
    this.optimizer.dispose();
    this.ema?.dispose();
  }
}
