import { MigeInputError, tf, type Latents, type Rng } from '@mige/core';
import type { AsyncNoiseModel, SampleOptions, SamplerStep, StepHook } from './sampler.js';

/** Most sampling steps any sampler takes: the discrete schedule has 1000. */
export const MAX_STEPS = 1000;

/** Checks `options.steps` and x_T before a loop starts. */
export function checkSampleInput(xT: Latents, options: SampleOptions, where: string): void {
  checkSteps(options.steps, where);
  if (xT.rank !== 4) throw new MigeInputError(`x_T must be [B, C, h, w], got shape [${xT.shape.join(', ')}]`, `${where}.xT`);
  if (xT.dtype !== 'float32') throw new MigeInputError(`x_T must be float32, got ${xT.dtype}`, `${where}.xT`);
}

/** `steps` must be an integer in [1, MAX_STEPS]. */
export function checkSteps(steps: number, where: string): void {
  if (!Number.isInteger(steps) || steps < 1 || steps > MAX_STEPS) {
    throw new MigeInputError(`steps must be an integer in [1, ${MAX_STEPS}], got ${String(steps)}`, `${where}.steps`);
  }
}

/**
 * Lets timers and other requests run between steps (so an abort from a timer is seen before
 * the next model call). setImmediate in Node; a zero timeout elsewhere.
 */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => (typeof setImmediate === 'function' ? setImmediate(resolve) : setTimeout(resolve, 0)));
}

/**
 * Calls the model once, checks that ε has x's shape and passes it to `then` (whose result is
 * the only tensor kept). A synchronous model runs with `then` inside one `tf.tidy`, as before
 * async models existed; a promise is awaited, then ε is disposed once `then` has used it.
 */
export async function withEps<T extends tf.TensorContainer>(model: AsyncNoiseModel, x: Latents, modelTime: number, then: (eps: Latents) => T): Promise<T> {
  let pending: Promise<Latents> | undefined;
  const done = tf.tidy(() => {
    const out = model(x, modelTime);
    if (out instanceof Promise) {
      pending = out;
      return undefined;
    }
    return { result: then(checkEps(out, x, modelTime)) };
  });
  if (done) return done.result;
  const eps = await (pending as Promise<Latents>);
  try {
    return tf.tidy(() => then(checkEps(eps, x, modelTime)));
  } finally {
    if (eps instanceof tf.Tensor) eps.dispose();
  }
}

function checkEps(eps: unknown, x: Latents, modelTime: number): Latents {
  if (!(eps instanceof tf.Tensor) || eps.shape.join() !== x.shape.join()) {
    const got = eps instanceof tf.Tensor ? `[${eps.shape.join(', ')}]` : typeof eps;
    throw new MigeInputError(`the model returned ${got} for an input of shape [${x.shape.join(', ')}] at time ${modelTime}`, 'NoiseModel');
  }
  return eps as Latents;
}

/** Standard normal noise shaped like x [B, …], from one generator or one per row. */
export function drawNoise(rng: Rng | Rng[] | undefined, shape: readonly number[], where: string): tf.Tensor {
  const checked = checkRng(rng, shape[0] as number, where);
  if (!Array.isArray(checked)) return checked.randn([...shape]);
  const rest = shape.slice(1);
  return tf.tidy(() => tf.concat(checked.map((r) => r.randn([1, ...rest])), 0));
}

/** Checks that a stochastic sampler got a generator, or exactly one per batch row. */
export function checkRng(rng: Rng | Rng[] | undefined, batch: number, where: string): Rng | Rng[] {
  if (rng === undefined) throw new MigeInputError('this sampler is stochastic and needs options.rng (an Rng, or one per batch row)', `${where}.rng`);
  if (Array.isArray(rng) && rng.length !== batch) throw new MigeInputError(`got ${rng.length} generators for a batch of ${batch} rows`, `${where}.rng`);
  return rng;
}

/**
 * Runs the step hook and returns the sample the loop continues from: `step.x`, or the tensor the
 * hook returned (checked against x's shape and dtype), in which case `step.x` is disposed. A
 * non-tensor return value changes nothing.
 */
export function runStepHook(hook: StepHook | undefined, step: SamplerStep): Latents {
  const out: unknown = hook?.(step);
  const { x } = step;
  // Only a tensor replaces x (plain JS hooks may return other values by accident).
  if (!(out instanceof tf.Tensor) || out === x) return x;
  if (out.shape.join() !== x.shape.join() || out.dtype !== x.dtype) {
    const got = `${out.dtype} [${out.shape.join(', ')}]`;
    out.dispose();
    throw new MigeInputError(`the step callback returned ${got}; replacement latents must be ${x.dtype} [${x.shape.join(', ')}]`, `step ${step.index + 1}`);
  }
  x.dispose();
  return out as Latents;
}
