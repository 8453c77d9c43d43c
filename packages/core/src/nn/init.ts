import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '../rng.js';

/**
 * The generator that new modules draw their initial weights from, like torch.manual_seed for
 * parameter init. Models built after the same `manualSeed(s)` get identical weights.
 */
let initRng = new Rng(0);

export function manualSeed(seed: number | string): void {
  initRng = new Rng(seed);
}

export function getInitRng(): Rng {
  return initRng;
}

let skipInit = false;

/**
 * Builds modules with zero-filled parameters instead of random ones, like torch's skip_init: for
 * models whose weights are loaded right after (drawing hundreds of millions of random numbers
 * would take longer than loading them).
 */
/** True while `withoutInit` is building: model-specific init code should then do nothing. */
export function isInitSkipped(): boolean {
  return skipInit;
}

export function withoutInit<T>(build: () => T): T {
  const before = skipInit;
  skipInit = true;
  try {
    return build();
  } finally {
    skipInit = before;
  }
}

/** U(-bound, bound), the shape of PyTorch's kaiming_uniform_(a=√5) and default bias init. */
export function uniformInit(shape: number[], bound: number, rng: Rng = initRng): tf.Tensor {
  if (skipInit) return tf.zeros(shape);
  return rng.rand(shape, -bound, bound);
}

export function normalInit(shape: number[], std = 1, rng: Rng = initRng): tf.Tensor {
  if (skipInit) return tf.zeros(shape);
  return rng.randn(shape, 0, std);
}

/** PyTorch's xavier_uniform_ for a 2-D weight [out, in]. */
export function xavierUniform(shape: [number, number], rng: Rng = initRng): tf.Tensor {
  if (skipInit) return tf.zeros(shape);
  const bound = Math.sqrt(6 / (shape[0] + shape[1]));
  return rng.rand(shape, -bound, bound);
}
