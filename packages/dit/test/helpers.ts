import { initBackend, nn, Rng, SafetensorsReader, tf, type BackendName } from '@mige/core';
import { expect } from 'vitest';

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

/** Asserts equal shapes and max |a − b| ≤ tol; returns the difference. */
export function expectClose(actual: tf.Tensor, expected: tf.Tensor, tol: number, label = ''): number {
  expect(actual.shape, `${label} shape`).toEqual(expected.shape);
  const d = maxAbsDiff(actual, expected);
  expect(d, `${label} max abs diff`).toBeLessThanOrEqual(tol);
  return d;
}

/** A golden fixture file under the repository's fixtures/reference. */
export const fixturePath = (rel: string): string => new URL(`../../../fixtures/reference/${rel}`, import.meta.url).pathname;

/** Every tensor of a fixture file, as tensors the caller owns. */
export function readFixture(rel: string): Map<string, tf.Tensor> {
  const reader = SafetensorsReader.open(fixturePath(rel));
  try {
    return new Map(reader.keys().map((k) => {
      const t = reader.read(k);
      return [k, tf.tensor(t.data, t.shape, t.dtype)];
    }));
  } finally {
    reader.close();
  }
}

/** Looks a tensor up by name, failing the test clearly when it is absent. */
export function get<T extends tf.Tensor = tf.Tensor>(m: Map<string, tf.Tensor>, name: string): T {
  const t = m.get(name);
  if (!t) throw new Error(`fixture has no tensor ${name}`);
  return t as T;
}

/**
 * Overwrites every parameter with non-zero random values, as the fixtures do (matrices
 * U(±√(3/fan_in)), vectors 0.1·N(0,1), scale-shift tables N(0, 0.3²)): a freshly initialised
 * DiT has zero gates and output layers, which would hide whether inputs and gradients flow.
 */
export function randomizeParameters(module: nn.Module, seed: string): void {
  const rng = new Rng(seed);
  for (const [name, p] of module.namedParameters()) {
    const fanIn = p.shape.slice(1).reduce((a, b) => a * b, 1);
    const value = p.rank >= 2 && !name.endsWith('scale_shift_table')
      ? rng.rand([...p.shape], -Math.sqrt(3 / fanIn), Math.sqrt(3 / fanIn))
      : rng.randn([...p.shape], 0, name.endsWith('scale_shift_table') ? 0.3 : 0.1);
    p.assign(value);
    value.dispose();
  }
}
