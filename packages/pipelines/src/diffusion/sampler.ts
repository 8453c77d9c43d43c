import { MigeInputError, type Latents, type Rng } from '@mige/core';
import { DdimSampler, DdpmSampler } from './discrete-samplers.js';
import { DpmSolverSampler } from './dpm-solver.js';

/**
 * The network as samplers see it: x_t [B, 4, h, w] at model time t (one value for the whole
 * batch: DPM-Solver passes the continuous (t − 1/N)·N, DDIM/DDPM integer steps) → ε
 * [B, 4, h, w]. The sampler disposes the returned tensor (and anything else the call creates
 * and does not keep, since each call runs inside `tf.tidy`).
 */
export type NoiseModel = (x: Latents, modelTime: number) => Latents;

/**
 * A NoiseModel that may return a promise of ε (an engine computing off the main thread, such
 * as ONNX Runtime); every sampler takes either kind and awaits. Each call starts inside
 * `tf.tidy`, so code before the model's first `await` is scoped as a NoiseModel's is: it must
 * `tf.keep` any tensor it made there and still reads later. Code after it runs outside any
 * scope (no scope spans an await) and disposes its own intermediates. The sampler disposes ε.
 */
export type AsyncNoiseModel = (x: Latents, modelTime: number) => Latents | Promise<Latents>;

export interface SamplerStep {
  /** 0-based step index. */
  index: number;
  total: number;
  /** The model time of this step's network call. */
  modelTime: number;
  /** Current sample after this step; valid only during the callback (clone it to keep it). */
  x: Latents;
  /** The data prediction x0 at this step (for previews); valid only during the callback. */
  denoised: Latents;
}

/**
 * Called after every step. Returning a tensor replaces the sample x: the loop goes on from it
 * (same shape and dtype as x; the sampler takes ownership and disposes it later, so return a new
 * tensor, e.g. `tf.mul(s.x, 0.9)`). Returning nothing (or `s.x`) changes nothing.
 */
export type StepHook = (s: SamplerStep) => Latents | void;

export interface SampleOptions {
  /** Number of network calls, 1 … 1000. */
  steps: number;
  onStep?: StepHook;
  signal?: AbortSignal;
  /**
   * Randomness for the stochastic samplers (DDIM with eta > 0, DDPM): one generator for the
   * batch, or one per batch row so each row's noise depends only on its own stream.
   */
  rng?: Rng | Rng[];
}

export type SkipType = 'time_uniform' | 'logSNR' | 'time_quadratic';

export interface DpmSolverConfig {
  type: 'dpm-solver';
  /** Multistep order (default 2, as MIGE samples). */
  order?: 1 | 2 | 3;
  /** Time-step spacing (default 'time_uniform'). */
  skipType?: SkipType;
  /** Lower the order of the final steps when steps < 10 (default true). */
  lowerOrderFinal?: boolean;
  /**
   * Start the solver at discrete timestep n, continuous time (n + 1)/N, from x_T as given
   * (default 999: t = 1, the reference). As DDPM's option: a small model's x0 estimates at the
   * noisiest times can be worse than none, and skipping them can make better samples (RUNS.md).
   */
  maxTimestep?: number;
}

export interface DdimConfig {
  type: 'ddim';
  /** 0 (default) is deterministic DDIM; 1 matches DDPM's posterior variance. */
  eta?: number;
}

export interface DdpmConfig {
  type: 'ddpm';
  /**
   * Start the chain at this timestep, from pure noise (default numSteps − 1 = 999; the steps
   * are spread over [0, maxTimestep]). At t = 700 the linear schedule keeps only √ᾱ = 0.08 of
   * the signal, and a small model's x0 estimates above it are worse than none (RUNS.md).
   */
  maxTimestep?: number;
}

export type SamplerConfig = DpmSolverConfig | DdimConfig | DdpmConfig;

export interface Sampler {
  readonly config: SamplerConfig;
  /** The model times it will call the model at, in order, for `steps` (length = number of model calls). */
  modelTimes(steps: number): number[];
  /**
   * Runs the loop from x_T [B, C, h, w] to x_0 [B, C, h, w]. Yields to the event loop before
   * each step, so an AbortSignal fired by a timer or another request stops it (MigeAbortError)
   * before the next model call. Disposes every intermediate; the caller owns the result and
   * keeps ownership of xT.
   */
  sample(model: NoiseModel | AsyncNoiseModel, xT: Latents, options: SampleOptions): Promise<Latents>;
}

const OPTIONS: Record<SamplerConfig['type'], readonly string[]> = {
  'dpm-solver': ['type', 'order', 'skipType', 'lowerOrderFinal', 'maxTimestep'],
  ddim: ['type', 'eta'],
  ddpm: ['type', 'maxTimestep'],
};

/** Builds a sampler; checks the config and fills in the reference defaults. */
export function createSampler(config: SamplerConfig): Sampler {
  const where = 'SamplerConfig';
  if (typeof config !== 'object' || config === null) throw new MigeInputError('sampler config must be an object', where);
  const type = (config as { type?: unknown }).type;
  if (typeof type !== 'string' || !Object.hasOwn(OPTIONS, type)) {
    throw new MigeInputError(`unknown sampler type ${JSON.stringify(type)}; expected 'dpm-solver', 'ddim' or 'ddpm'`, `${where}.type`);
  }
  const known = OPTIONS[type as SamplerConfig['type']];
  for (const key of Object.keys(config)) {
    if (!known.includes(key)) throw new MigeInputError(`'${key}' is not an option of the ${type} sampler (options: ${known.join(', ')})`, `${where}.${key}`);
  }
  switch (config.type) {
    case 'dpm-solver': {
      const { order = 2, skipType = 'time_uniform', lowerOrderFinal = true, maxTimestep = 999 } = config;
      if (order !== 1 && order !== 2 && order !== 3) throw new MigeInputError(`order must be 1, 2 or 3, got ${String(order)}`, `${where}.order`);
      if (skipType !== 'time_uniform' && skipType !== 'logSNR' && skipType !== 'time_quadratic') {
        throw new MigeInputError(`skipType must be 'time_uniform', 'logSNR' or 'time_quadratic', got ${JSON.stringify(skipType)}`, `${where}.skipType`);
      }
      if (typeof lowerOrderFinal !== 'boolean') throw new MigeInputError(`lowerOrderFinal must be a boolean, got ${String(lowerOrderFinal)}`, `${where}.lowerOrderFinal`);
      checkMaxTimestep(maxTimestep, where);
      return new DpmSolverSampler({ type: 'dpm-solver', order, skipType, lowerOrderFinal, maxTimestep });
    }
    case 'ddim': {
      const { eta = 0 } = config;
      if (typeof eta !== 'number' || !(eta >= 0 && eta <= 1)) throw new MigeInputError(`eta must be a number in [0, 1], got ${String(eta)}`, `${where}.eta`);
      return new DdimSampler({ type: 'ddim', eta });
    }
    case 'ddpm': {
      const { maxTimestep = 999 } = config;
      checkMaxTimestep(maxTimestep, where);
      return new DdpmSampler({ type: 'ddpm', maxTimestep });
    }
  }
}

function checkMaxTimestep(maxTimestep: unknown, where: string): void {
  if (typeof maxTimestep !== 'number' || !Number.isInteger(maxTimestep) || maxTimestep < 1 || maxTimestep > 999) {
    throw new MigeInputError(`maxTimestep must be an integer in [1, 999], got ${String(maxTimestep)}`, `${where}.maxTimestep`);
  }
}
