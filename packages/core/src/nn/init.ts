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
let metaWeights = false;

/** True while `withoutInit` or `withoutWeights` is building: model-specific init code should then do nothing. */
export function isInitSkipped(): boolean {
  return skipInit;
}

function building<T>(meta: boolean, build: () => T): T {
  const before = { skipInit, metaWeights };
  skipInit = true;
  metaWeights = meta;
  try {
    return build();
  } finally {
    ({ skipInit, metaWeights } = before);
  }
}

/**
 * Builds modules with zero-filled parameters instead of random ones, like torch's skip_init: for
 * models whose weights are loaded right after (drawing hundreds of millions of random numbers
 * would take longer than loading them).
 */
export function withoutInit<T>(build: () => T): T {
  // Inside withoutWeights it stays shape-only.
  return building(metaWeights, build);
}

/**
 * Builds modules whose parameters have a shape and no data, like torch's meta device: the module
 * tree of a model too big to hold (T5-XXL's 19 GB), for code that needs only its structure, such
 * as the ONNX emitters with weights streamed from a checkpoint. Buffers stay real (they are
 * small and computed). Running such a module fails; `Module.hasWeights()` tells them apart, and
 * assigning a parameter a real value (loadStateDict) gives it data.
 */
export function withoutWeights<T>(build: () => T): T {
  return building(true, build);
}

/** The shared data id of every shape-only tensor: no backend knows it, so nothing can read it. */
const META_DATA_ID = Object.freeze({ meta: true });
let metaIds = 0;

/** A float32 tensor of `shape` with no data (see withoutWeights). */
export function metaTensor(shape: readonly number[]): tf.Tensor {
  return new tf.Tensor([...shape], 'float32', META_DATA_ID, --metaIds);
}

/** Whether `t` is a shape-only tensor (a parameter built under withoutWeights). */
export function isMetaTensor(t: tf.Tensor): boolean {
  return t.dataId === META_DATA_ID;
}

/** U(-bound, bound), the shape of PyTorch's kaiming_uniform_(a=√5) and default bias init. */
export function uniformInit(shape: number[], bound: number, rng: Rng = initRng): tf.Tensor {
  if (skipInit) return zerosInit(shape);
  return rng.rand(shape, -bound, bound);
}

export function normalInit(shape: number[], std = 1, rng: Rng = initRng): tf.Tensor {
  if (skipInit) return zerosInit(shape);
  return rng.randn(shape, 0, std);
}

/** PyTorch's xavier_uniform_ for a 2-D weight [out, in]. */
export function xavierUniform(shape: [number, number], rng: Rng = initRng): tf.Tensor {
  if (skipInit) return zerosInit(shape);
  const bound = Math.sqrt(6 / (shape[0] + shape[1]));
  return rng.rand(shape, -bound, bound);
}

/** A parameter's zeros init (shape-only under withoutWeights). */
export function zerosInit(shape: number[]): tf.Tensor {
  return metaWeights ? metaTensor(shape) : tf.zeros(shape);
}

/** A parameter's ones init (norm scales; shape-only under withoutWeights). */
export function onesInit(shape: number[]): tf.Tensor {
  return metaWeights ? metaTensor(shape) : tf.ones(shape);
}
