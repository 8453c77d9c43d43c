import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';
import { initBackend, type BackendName } from '../src/backend/index.js';

/** Backends the parity tests run on (tfjs-node is not installable on these machines). */
export const TEST_BACKENDS: BackendName[] = ['wasm', 'cpu'];

export async function useBackend(name: BackendName): Promise<void> {
  await initBackend({ backend: name, log: null });
}

export function maxAbsDiff(a: tf.Tensor | Float32Array, b: tf.Tensor | Float32Array): number {
  const x = a instanceof tf.Tensor ? a.dataSync() : a;
  const y = b instanceof tf.Tensor ? b.dataSync() : b;
  expect(x.length).toBe(y.length);
  let m = 0;
  for (let i = 0; i < x.length; i++) {
    const d = Math.abs((x[i] as number) - (y[i] as number));
    if (!(d <= m)) m = d; // NaN propagates as a failure
  }
  return m;
}

/** Asserts equal shapes and max |a − b| ≤ tol. */
export function expectClose(actual: tf.Tensor, expected: tf.Tensor, tol: number, label = ''): void {
  expect(actual.shape, `${label} shape`).toEqual(expected.shape);
  const d = maxAbsDiff(actual, expected);
  expect(d, `${label} max abs diff`).toBeLessThanOrEqual(tol);
}

export const dataPath = (rel: string): string => new URL(`./data/${rel}`, import.meta.url).pathname;
