import { tf } from '@mige/core';

export { expectClose, fixturePath, readFixture, TEST_BACKENDS, useBackend } from '@mige/core/testing';

/** A tensor of a fixture map, or a thrown error naming the missing key. */
export function get<T extends tf.Tensor = tf.Tensor>(m: Map<string, tf.Tensor>, key: string): T {
  const t = m.get(key);
  if (!t) throw new Error(`fixture has no tensor ${key}`);
  return t as T;
}

/** Collects traced intermediates, kept past the forward's tidy. */
export function tracer(): { traced: Map<string, tf.Tensor>; trace: (name: string, v: tf.Tensor) => void } {
  const traced = new Map<string, tf.Tensor>();
  return { traced, trace: (name, v) => traced.set(name, tf.keep(v.clone())) };
}

/** Parity numbers printed at the end when PARITY_REPORT=1. */
export const parityReport = new Map<string, number>();
export function printParityReport(): void {
  if (process.env.PARITY_REPORT !== '1') return;
  for (const [k, v] of parityReport) console.log(`${k}: ${v.toExponential(2)}`);
}
