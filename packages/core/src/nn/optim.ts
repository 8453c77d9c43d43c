import * as tf from '@tensorflow/tfjs-core';
import { MigeInputError } from '../errors.js';

export interface AdamWConfig {
  lr: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
  /** Clip the global gradient L2 norm to this value before the update (off when undefined). */
  maxGradNorm?: number;
  /** Linear warm-up of the learning rate from 0 over this many steps (as MIGE's schedule). */
  warmupSteps?: number;
  /**
   * After the warm-up, a cosine decay of the learning rate that reaches `minLrRatio · lr` at this
   * step and stays there (off when undefined: a constant rate, as MIGE trains).
   */
  cosineDecaySteps?: number;
  /** Where the cosine decay ends, as a fraction of lr. Default 0. */
  minLrRatio?: number;
}

export interface StepResult {
  /** Global gradient norm before clipping. */
  gradNorm: number;
  /** Learning rate used for this step. */
  lr: number;
}

/** Checks a config and fills the defaults (torch's): betas (0.9, 0.999), eps 1e-8, weight decay 1e-2. */
function checkAdamWConfig(config: AdamWConfig): { betas: [number, number]; eps: number; weightDecay: number } {
  if (!(config.lr > 0)) throw new MigeInputError(`learning rate must be positive, got ${config.lr}`, 'AdamW');
  if (config.minLrRatio !== undefined && !(config.minLrRatio >= 0 && config.minLrRatio <= 1)) {
    throw new MigeInputError(`minLrRatio must be in [0, 1], got ${config.minLrRatio}`, 'AdamW');
  }
  return { betas: config.betas ?? [0.9, 0.999], eps: config.eps ?? 1e-8, weightDecay: config.weightDecay ?? 1e-2 };
}

/** The learning rate at 1-based step `t`: linear warm-up, then constant or a cosine decay. */
export function adamwLr(config: AdamWConfig, t: number): number {
  const { lr, cosineDecaySteps: end, minLrRatio = 0 } = config;
  const w = config.warmupSteps ?? 0;
  if (w > 0 && t < w) return lr * (t / w);
  if (end === undefined || end <= w) return lr;
  const progress = Math.min(1, (t - w) / (end - w));
  return lr * (minLrRatio + (1 - minLrRatio) * 0.5 * (1 + Math.cos(Math.PI * progress)));
}

/** clip_grad_norm_'s factor: maxGradNorm / (norm + 1e-6) when that is below 1, else 1. */
function clipFactor(config: AdamWConfig, gradNorm: number): number {
  if (config.maxGradNorm === undefined) return 1;
  const c = config.maxGradNorm / (gradNorm + 1e-6);
  return c < 1 ? c : 1;
}

/**
 * torch.optim.AdamW (decoupled weight decay, bias-corrected moments, amsgrad off), with global
 * grad-norm clipping as torch.nn.utils.clip_grad_norm_ and a linear warm-up. Parameters are
 * named so the optimiser state saves and loads by name.
 */
export class AdamW {
  readonly betas: [number, number];
  readonly eps: number;
  readonly weightDecay: number;
  private readonly m = new Map<string, tf.Variable>();
  private readonly v = new Map<string, tf.Variable>();
  step = 0;

  constructor(private readonly params: [string, tf.Variable][], readonly config: AdamWConfig) {
    ({ betas: this.betas, eps: this.eps, weightDecay: this.weightDecay } = checkAdamWConfig(config));
    for (const [n, p] of params) {
      this.m.set(n, tf.variable(tf.zerosLike(p), false));
      this.v.set(n, tf.variable(tf.zerosLike(p), false));
    }
  }

  /** The learning rate at 1-based step `t` under the warm-up schedule. */
  lrAt(t: number): number {
    return adamwLr(this.config, t);
  }

  /**
   * Applies one update from `grads` (by parameter name; missing names are left unchanged, as
   * PyTorch skips parameters whose .grad is None). Disposes nothing it does not own.
   */
  apply(grads: Record<string, tf.Tensor>): StepResult {
    this.step++;
    const t = this.step;
    const lr = this.lrAt(t);
    const [b1, b2] = this.betas;
    const present = this.params.filter(([n]) => grads[n]);
    const gradNorm = tf.tidy(() => {
      if (present.length === 0) return 0;
      const sq = present.map(([n]) => tf.sum(tf.square(grads[n] as tf.Tensor)));
      return Math.sqrt((tf.addN(sq).dataSync()[0]) as number);
    });
    const clip = clipFactor(this.config, gradNorm);
    const bc1 = 1 - b1 ** t;
    const bc2 = 1 - b2 ** t;
    const stepSize = lr / bc1;
    for (const [n, p] of present) {
      tf.tidy(() => {
        const g = clip === 1 ? (grads[n] as tf.Tensor) : tf.mul(grads[n] as tf.Tensor, clip);
        const m = this.m.get(n) as tf.Variable;
        const v = this.v.get(n) as tf.Variable;
        m.assign(tf.add(tf.mul(m, b1), tf.mul(g, 1 - b1)));
        v.assign(tf.add(tf.mul(v, b2), tf.mul(tf.square(g), 1 - b2)));
        const denom = tf.add(tf.div(tf.sqrt(v), Math.sqrt(bc2)), this.eps);
        const decayed = this.weightDecay !== 0 ? tf.mul(p, 1 - lr * this.weightDecay) : p;
        p.assign(tf.sub(decayed, tf.mul(tf.div(m, denom), stepSize)));
      });
    }
    return { gradNorm, lr };
  }

  /** Moments by `exp_avg.<name>` / `exp_avg_sq.<name>`, for checkpoints. */
  stateDict(): Map<string, tf.Tensor> {
    const sd = new Map<string, tf.Tensor>();
    for (const [n] of this.params) {
      sd.set(`exp_avg.${n}`, this.m.get(n) as tf.Tensor);
      sd.set(`exp_avg_sq.${n}`, this.v.get(n) as tf.Tensor);
    }
    return sd;
  }

  loadStateDict(sd: Map<string, tf.Tensor>, step: number): void {
    for (const [n, p] of this.params) {
      for (const [prefix, store] of [['exp_avg', this.m], ['exp_avg_sq', this.v]] as const) {
        const t = sd.get(`${prefix}.${n}`);
        if (!t) throw new MigeInputError(`optimizer state lacks ${prefix}.${n}`, 'AdamW.loadStateDict');
        if (t.shape.join() !== p.shape.join()) throw new MigeInputError(`${prefix}.${n} has shape [${t.shape}], expected [${p.shape}]`, 'AdamW.loadStateDict');
        (store.get(n) as tf.Variable).assign(t);
      }
    }
    this.step = step;
  }

  dispose(): void {
    for (const t of [...this.m.values(), ...this.v.values()]) t.dispose();
  }
}

/** A parameter as a flat float32 array, updated in place. */
export interface FlatParameter {
  name: string;
  data: Float32Array;
}

/**
 * AdamW on flat Float32Arrays (engines that hold weights outside TF.js, such as the ONNX Runtime
 * trainer): `AdamW`'s update (the same schedule, clipping and state names), computed in float64
 * and rounded once per stored value, where the tf version rounds every operation to float32.
 * Per element: one square root and one division, about 3 ns on these machines (rounding every
 * operation with Math.fround costs 4x that).
 */
export class FlatAdamW {
  readonly betas: [number, number];
  readonly eps: number;
  readonly weightDecay: number;
  private readonly m = new Map<string, Float32Array>();
  private readonly v = new Map<string, Float32Array>();
  step = 0;

  constructor(private readonly params: readonly FlatParameter[], readonly config: AdamWConfig) {
    ({ betas: this.betas, eps: this.eps, weightDecay: this.weightDecay } = checkAdamWConfig(config));
    for (const p of params) {
      this.m.set(p.name, new Float32Array(p.data.length));
      this.v.set(p.name, new Float32Array(p.data.length));
    }
  }

  lrAt(t: number): number {
    return adamwLr(this.config, t);
  }

  /**
   * One update from gradients by parameter name (missing names are left unchanged, as in
   * `AdamW`). `updated` runs after each parameter's update, while its data is still in cache
   * (e.g. an EMA of it).
   */
  apply(grads: ReadonlyMap<string, Float32Array>, updated?: (p: FlatParameter) => void): StepResult {
    this.step++;
    const t = this.step;
    const lr = this.lrAt(t);
    const present = this.params.filter((p) => grads.has(p.name));
    let sq = 0;
    for (const p of present) {
      const g = grads.get(p.name) as Float32Array;
      if (g.length !== p.data.length) throw new MigeInputError(`gradient of ${p.name} has ${g.length} values for ${p.data.length} weights`, 'FlatAdamW');
      for (let i = 0; i < g.length; i++) sq += (g[i] as number) * (g[i] as number);
    }
    const gradNorm = Math.sqrt(sq);
    const clip = clipFactor(this.config, gradNorm);
    const [b1, b2] = this.betas;
    const c1 = 1 - b1, c2 = 1 - b2;
    const invSqrtBc2 = 1 / Math.sqrt(1 - b2 ** t);
    const stepSize = lr / (1 - b1 ** t);
    const eps = this.eps;
    const decay = 1 - lr * this.weightDecay;
    for (const p of present) {
      const g = grads.get(p.name) as Float32Array;
      const m = this.m.get(p.name) as Float32Array, v = this.v.get(p.name) as Float32Array, w = p.data;
      for (let i = 0; i < w.length; i++) {
        const gi = (g[i] as number) * clip;
        const mi = (m[i] as number) * b1 + gi * c1;
        const vi = (v[i] as number) * b2 + gi * gi * c2;
        m[i] = mi;
        v[i] = vi;
        w[i] = (w[i] as number) * decay - (mi / (Math.sqrt(vi) * invSqrtBc2 + eps)) * stepSize;
      }
      updated?.(p);
    }
    return { gradNorm, lr };
  }

  /** Moments by `exp_avg.<name>` / `exp_avg_sq.<name>` (AdamW's checkpoint names); the arrays themselves. */
  stateDict(): Map<string, Float32Array> {
    const sd = new Map<string, Float32Array>();
    for (const p of this.params) {
      sd.set(`exp_avg.${p.name}`, this.m.get(p.name) as Float32Array);
      sd.set(`exp_avg_sq.${p.name}`, this.v.get(p.name) as Float32Array);
    }
    return sd;
  }

  loadStateDict(sd: ReadonlyMap<string, ArrayLike<number>>, step: number): void {
    for (const p of this.params) {
      for (const [prefix, store] of [['exp_avg', this.m], ['exp_avg_sq', this.v]] as const) {
        const t = sd.get(`${prefix}.${p.name}`);
        if (!t) throw new MigeInputError(`optimizer state lacks ${prefix}.${p.name}`, 'FlatAdamW.loadStateDict');
        if (t.length !== p.data.length) throw new MigeInputError(`${prefix}.${p.name} has ${t.length} values, expected ${p.data.length}`, 'FlatAdamW.loadStateDict');
        (store.get(p.name) as Float32Array).set(t);
      }
    }
    this.step = step;
  }
}
