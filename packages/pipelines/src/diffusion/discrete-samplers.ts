import { checkAbort, tf, type Latents } from '@mige/core';
import { ddpmSchedule, type DdpmSchedule } from './schedule.js';
import type { DdimConfig, DdpmConfig, AsyncNoiseModel, SampleOptions, Sampler } from './sampler.js';
import { checkRng, checkSampleInput, checkSteps, drawNoise, runStepHook, withEps, yieldToEventLoop } from './sampler-loop.js';

/**
 * The training timesteps a `steps`-step sampler visits, ascending: IDDPM's
 * `space_timesteps(N, [steps])` (PixArt's respacing), evenly spaced from 0 to N − 1 with
 * Python's round-half-to-even, e.g. 10 steps → 0, 111, 222, …, 999.
 */
export function spacedTimesteps(steps: number, numTrainSteps = 1000): number[] {
  const stride = steps === 1 ? 1 : (numTrainSteps - 1) / (steps - 1);
  const taken = new Set<number>();
  let cur = 0;
  for (let i = 0; i < steps; i++) {
    taken.add(roundHalfEven(cur));
    cur += stride;
  }
  return [...taken].sort((a, b) => a - b);
}

function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** ᾱ at each spaced timestep and at the one before it (1 before the first), float64. */
function respaced(schedule: DdpmSchedule, ts: number[]): { ab: number[]; abPrev: number[] } {
  const ab = ts.map((t) => schedule.alphasCumprod[t] as number);
  return { ab, abPrev: ab.map((_, k) => (k === 0 ? 1 : (ab[k - 1] as number))) };
}

/**
 * Shared loop of the discrete samplers: from the last spaced timestep down to 0, one model
 * call per step; `update` maps (x, ε, k) to [x_prev, x0].
 */
async function discreteLoop(
  model: AsyncNoiseModel,
  xT: Latents,
  options: SampleOptions,
  ts: number[],
  update: (x: Latents, eps: Latents, k: number) => [Latents, Latents],
): Promise<Latents> {
  const { onStep, signal } = options;
  let x: Latents = tf.clone(xT);
  try {
    for (let i = 0; i < ts.length; i++) {
      await yieldToEventLoop();
      checkAbort(signal, 'sample', i);
      const k = ts.length - 1 - i;
      const modelTime = ts[k] as number;
      const [next, x0] = await withEps(model, x, modelTime, (eps) => update(x, eps, k));
      x.dispose();
      x = next;
      try {
        x = runStepHook(onStep, { index: i, total: ts.length, modelTime, x, denoised: x0 });
      } finally {
        x0.dispose();
      }
    }
    return x;
  } catch (e) {
    x.dispose();
    throw e;
  }
}

/** x0 = √(1/ᾱ)·x − √(1/ᾱ − 1)·ε. */
function predictX0(x: Latents, eps: Latents, ab: number): tf.Tensor {
  return tf.sub(tf.mul(x, Math.sqrt(1 / ab)), tf.mul(eps, Math.sqrt(1 / ab - 1)));
}

/**
 * DDIM (IDDPM's `ddim_sample_loop`) on the respaced discrete schedule: x_prev =
 * √ᾱ_prev·x0 + √(1 − ᾱ_prev − σ²)·ε + σ·z with σ = eta·√((1 − ᾱ_prev)/(1 − ᾱ))·√(1 − ᾱ/ᾱ_prev).
 * The last step (ᾱ_prev = 1) returns x0. eta = 0 is deterministic; eta > 0 needs options.rng.
 */
export class DdimSampler implements Sampler {
  constructor(
    readonly config: Required<DdimConfig>,
    readonly schedule: DdpmSchedule = ddpmSchedule(),
  ) {}

  modelTimes(steps: number): number[] {
    checkSteps(steps, `${this.config.type}.modelTimes`);
    return spacedTimesteps(steps, this.schedule.numSteps).reverse();
  }

  async sample(model: AsyncNoiseModel, xT: Latents, options: SampleOptions): Promise<Latents> {
    checkSampleInput(xT, options, 'ddim.sample');
    const { eta } = this.config;
    if (eta > 0) checkRng(options.rng, xT.shape[0], 'ddim.sample');
    const ts = spacedTimesteps(options.steps, this.schedule.numSteps);
    const { ab, abPrev } = respaced(this.schedule, ts);
    return discreteLoop(model, xT, options, ts, (x, eps, k) => {
      const a = ab[k] as number, ap = abPrev[k] as number;
      const x0 = predictX0(x, eps, a) as Latents;
      const sigma = eta * Math.sqrt((1 - ap) / (1 - a)) * Math.sqrt(1 - a / ap);
      let next = tf.add(tf.mul(x0, Math.sqrt(ap)), tf.mul(eps, Math.sqrt(Math.max(0, 1 - ap - sigma * sigma))));
      if (sigma > 0) next = tf.add(next, tf.mul(drawNoise(options.rng, x.shape, 'ddim.sample'), sigma));
      return [next as Latents, x0];
    });
  }
}

/**
 * Ancestral DDPM sampling (IDDPM's `p_sample_loop`) on the respaced schedule with the fixed
 * small variance: β'_k = 1 − ᾱ_k/ᾱ_prev, x_prev = c1·x0 + c2·x + σ̃·z from the posterior
 * q(x_prev | x, x0), σ̃² = β'·(1 − ᾱ_prev)/(1 − ᾱ); no noise is added at the last step.
 * Needs options.rng.
 */
export class DdpmSampler implements Sampler {
  constructor(
    readonly config: Required<DdpmConfig>,
    readonly schedule: DdpmSchedule = ddpmSchedule(),
  ) {}

  modelTimes(steps: number): number[] {
    checkSteps(steps, `${this.config.type}.modelTimes`);
    return this.timesteps(steps).reverse();
  }

  /** The respaced timesteps, ascending: `steps` of them over [0, maxTimestep]. */
  private timesteps(steps: number): number[] {
    return spacedTimesteps(steps, Math.min(this.config.maxTimestep, this.schedule.numSteps - 1) + 1);
  }

  async sample(model: AsyncNoiseModel, xT: Latents, options: SampleOptions): Promise<Latents> {
    checkSampleInput(xT, options, 'ddpm.sample');
    checkRng(options.rng, xT.shape[0], 'ddpm.sample');
    const ts = this.timesteps(options.steps);
    const { ab, abPrev } = respaced(this.schedule, ts);
    const variance = ab.map((a, k) => {
      const ap = abPrev[k] as number;
      return ((1 - a / ap) * (1 - ap)) / (1 - a);
    });
    return discreteLoop(model, xT, options, ts, (x, eps, k) => {
      const a = ab[k] as number, ap = abPrev[k] as number;
      const beta = 1 - a / ap;
      const x0 = predictX0(x, eps, a) as Latents;
      const c1 = (beta * Math.sqrt(ap)) / (1 - a);
      const c2 = ((1 - ap) * Math.sqrt(1 - beta)) / (1 - a);
      const mean = tf.add(tf.mul(x0, c1), tf.mul(x, c2));
      if (k === 0) return [mean as Latents, x0];
      const std = Math.sqrt(variance[k] as number);
      return [tf.add(mean, tf.mul(drawNoise(options.rng, x.shape, 'ddpm.sample'), std)) as Latents, x0];
    });
  }
}
