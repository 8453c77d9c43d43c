import { fileURLToPath } from 'node:url';
import { initBackend, readSafetensors, tf, type BackendName } from '@mige/core';
import { expect } from 'vitest';

/** Backends the parity tests run on (tfjs-node is not installable on these machines). */
export const TEST_BACKENDS: BackendName[] = ['wasm', 'cpu'];

export async function useBackend(name: BackendName): Promise<void> {
  await initBackend({ backend: name, log: null });
}

export function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  const x = a.dataSync();
  const y = b.dataSync();
  expect(x.length).toBe(y.length);
  let m = 0;
  for (let i = 0; i < x.length; i++) {
    const d = Math.abs((x[i] as number) - (y[i] as number));
    if (!(d <= m)) m = d; // NaN propagates as a failure
  }
  return m;
}

/** Asserts equal shapes and max |a − b| ≤ tol; returns the difference. */
export function expectClose(actual: tf.Tensor, expected: tf.Tensor, tol: number, label = ''): number {
  expect(actual.shape, `${label} shape`).toEqual(expected.shape);
  const d = maxAbsDiff(actual, expected);
  expect(d, `${label} max abs diff`).toBeLessThanOrEqual(tol);
  return d;
}

/** The repository's golden fixtures (fixtures/reference), found relative to this file. */
export const fixturePath = (rel: string): string => fileURLToPath(new URL(`../../../../fixtures/reference/${rel}`, import.meta.url));

/** The `vae` fixture's io.safetensors tensors by name, as tf tensors. */
export function vaeFixtureIo(): (name: string) => tf.Tensor4D {
  const io = readSafetensors(fixturePath('vae/io.safetensors'));
  return (name) => {
    const t = io.get(name);
    if (!t) throw new Error(`vae fixture has no tensor ${name}`);
    return tf.tensor4d(t.data, t.shape as [number, number, number, number], 'float32');
  };
}
