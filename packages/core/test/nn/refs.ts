// The PyTorch reference values of test/data/nn (made by gen_nn_refs.py), shared by the nn tests.
import * as tf from '@tensorflow/tfjs-core';
import { readSafetensors } from '../../src/io/index.js';
import type { Module, StateDict } from '../../src/nn/index.js';
import { dataPath } from '../helpers.js';

export const refs = readSafetensors(dataPath('nn/nn_refs.safetensors'));

export function ref<T extends tf.Tensor = tf.Tensor>(name: string): T {
  const t = refs.get(name);
  if (!t) throw new Error(`no reference tensor ${name}`);
  return tf.tensor(t.data, t.shape, t.dtype) as T;
}

/** Loads `<case>.*` state-dict entries (not in./out./grad.) into `m`, strictly. */
export function loadCase<M extends Module>(m: M, prefix: string): M {
  const sd: StateDict = new Map();
  for (const [k, v] of refs) {
    const rest = k.slice(prefix.length + 1);
    if (k.startsWith(`${prefix}.`) && !/^(in|out|grad)\./.test(rest)) sd.set(rest, v);
  }
  m.loadStateDict(sd);
  return m;
}

/** The Conv2d cases of gen_nn_refs.py: [case, cin, cout, k, stride, padding, dilation]. */
export const CONV_CASES: [string, number, number, number, number, number, number][] = [
  ['conv3x3', 3, 5, 3, 1, 1, 1],
  ['conv_s2', 4, 6, 3, 2, 1, 1],
  ['conv_dil2', 3, 4, 3, 1, 2, 2],
  ['conv_1x1', 6, 3, 1, 1, 0, 1],
  ['conv_patch', 8, 12, 2, 2, 0, 1],
];
