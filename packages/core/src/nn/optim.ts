import * as tf from '@tensorflow/tfjs-core';
import { MigeInputError } from '../errors.js';
import { adamwKernel, type AdamwKernel } from './adamw-wasm.js';
import type { Float32Arena } from './arena.js';

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

const f32 = Math.fround;

/** The float32 scalars of one AdamW step. */
interface AdamwScalars {
  clip: number; b1: number; c1: number; b2: number; c2: number; sqrtBc2: number; eps: number; stepSize: number; decay: number; emaDecay: number; emaKeep: number;
}

/** The kernel's arithmetic in JavaScript, each operation rounded to float32 (the fallback outside an arena). */
function adamwLoop(w: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, e: Float32Array | undefined, s: AdamwScalars): void {
  for (let i = 0; i < w.length; i++) {
    const gi = f32((g[i] as number) * s.clip);
    const mi = f32(f32((m[i] as number) * s.b1) + f32(gi * s.c1));
    const vi = f32(f32((v[i] as number) * s.b2) + f32(f32(gi * gi) * s.c2));
    m[i] = mi;
    v[i] = vi;
    const wi = f32(f32((w[i] as number) * s.decay) - f32(f32(mi / f32(f32(f32(Math.sqrt(vi)) / s.sqrtBc2) + s.eps)) * s.stepSize));
    w[i] = wi;
    if (e) e[i] = f32(f32((e[i] as number) * s.emaDecay) + f32(wi * s.emaKeep));
  }
}

/** A parameter as a flat float32 array, updated in place. */
export interface FlatParameter {
  name: string;
  data: Float32Array;
}

/** An exponential moving average of the parameters that FlatAdamW updates with them. */
export interface FlatEma {
  /** The shadow of each parameter, by name. */
  shadows: ReadonlyMap<string, Float32Array>;
  /** ema ← decay·ema + (1 − decay)·param. */
  decay: number;
}

export interface FlatAdamWOptions {
  /**
   * Where the moments live. When the parameters, their gradients, the moments and the EMA
   * shadows are all views of this arena, the update runs as a WebAssembly SIMD kernel
   * (adamw-wasm.ts), four lanes at a time; otherwise as a JavaScript loop. Both compute AdamW's
   * float32 operations in AdamW's order, so they and the tf version give the same weights.
   */
  arena?: Float32Arena;
}


/**
 * AdamW on flat Float32Arrays (engines that hold weights outside TF.js, such as the ONNX Runtime
 * trainer): `AdamW`'s update, schedule, clipping and state names, with an optional EMA in the
 * same pass. Only the global gradient norm is summed in float64 (the tf version sums squares in
 * float32), so with equal gradients the weights equal the tf version's up to the clip factor's
 * last bit.
 */
export class FlatAdamW {
  readonly betas: [number, number];
  readonly eps: number;
  readonly weightDecay: number;
  private readonly m = new Map<string, Float32Array>();
  private readonly v = new Map<string, Float32Array>();
  private readonly kernel: AdamwKernel | null;
  step = 0;

  constructor(private readonly params: readonly FlatParameter[], readonly config: AdamWConfig, private readonly options: FlatAdamWOptions = {}) {
    ({ betas: this.betas, eps: this.eps, weightDecay: this.weightDecay } = checkAdamWConfig(config));
    const alloc = (n: number): Float32Array => options.arena?.alloc(n) ?? new Float32Array(n);
    for (const p of params) {
      this.m.set(p.name, alloc(p.data.length));
      this.v.set(p.name, alloc(p.data.length));
    }
    this.kernel = options.arena ? adamwKernel(options.arena.memory) : null;
  }

  lrAt(t: number): number {
    return adamwLr(this.config, t);
  }

  /**
   * One update from gradients by parameter name (missing names are left unchanged, as in
   * `AdamW`), and one EMA step of every parameter when `ema` is given.
   */
  apply(grads: ReadonlyMap<string, Float32Array>, ema?: FlatEma): StepResult {
    this.step++;
    const t = this.step;
    const lr = this.lrAt(t);
    const arena = this.options.arena;
    const present = this.params.filter((p) => grads.has(p.name));
    let sq = 0;
    for (const p of present) {
      const g = grads.get(p.name) as Float32Array;
      if (g.length !== p.data.length) throw new MigeInputError(`gradient of ${p.name} has ${g.length} values for ${p.data.length} weights`, 'FlatAdamW');
      if (this.kernel && arena?.holds(g)) sq += this.kernel.sumsq(g.byteOffset, g.length);
      else for (let i = 0; i < g.length; i++) sq += (g[i] as number) * (g[i] as number);
    }
    const gradNorm = Math.sqrt(sq);
    const [b1, b2] = this.betas;
    const s: AdamwScalars = {
      clip: f32(clipFactor(this.config, gradNorm)), b1: f32(b1), c1: f32(1 - b1), b2: f32(b2), c2: f32(1 - b2),
      sqrtBc2: f32(Math.sqrt(1 - b2 ** t)), eps: f32(this.eps), stepSize: f32(lr / (1 - b1 ** t)),
      decay: f32(this.weightDecay !== 0 ? 1 - lr * this.weightDecay : 1),
      emaDecay: f32(ema?.decay ?? 1), emaKeep: f32(1 - (ema?.decay ?? 1)),
    };
    for (const p of present) {
      const g = grads.get(p.name) as Float32Array;
      const m = this.m.get(p.name) as Float32Array, v = this.v.get(p.name) as Float32Array, w = p.data;
      const e = ema?.shadows.get(p.name);
      if (ema && !e) throw new MigeInputError(`no EMA shadow for ${p.name}`, 'FlatAdamW');
      const inArena = this.kernel && arena && [g, m, v, w, ...(e ? [e] : [])].every((a) => arena.holds(a));
      if (inArena) {
        this.kernel?.adamw(w.byteOffset, g.byteOffset, m.byteOffset, v.byteOffset, e?.byteOffset ?? 0, w.length, s.clip, s.b1, s.c1, s.b2, s.c2, s.sqrtBc2, s.eps, s.stepSize, s.decay, s.emaDecay, s.emaKeep, e ? 1 : 0);
      } else {
        adamwLoop(w, g, m, v, e, s);
      }
    }
    // Parameters without a gradient keep their weights, but their EMA still moves.
    if (ema) {
      for (const p of this.params) {
        if (grads.has(p.name)) continue;
        const e = ema.shadows.get(p.name) as Float32Array, w = p.data;
        for (let i = 0; i < e.length; i++) e[i] = f32(f32((e[i] as number) * s.emaDecay) + f32((w[i] as number) * s.emaKeep));
      }
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
