import { nn, Rng, tf } from '@mige/core';

export { TEST_BACKENDS, expectClose, fixturePath, maxAbsDiff, readFixture, useBackend } from '@mige/core/testing';

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
