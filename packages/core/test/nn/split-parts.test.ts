import { describe, expect, it } from 'vitest';
import { nn, tf } from '../../src/index.js';
import { TEST_BACKENDS, useBackend } from '../helpers.js';

describe.each(TEST_BACKENDS)('splitParts on %s', (backend) => {
  it('splits like tf.split and differentiates with one part or several', async () => {
    await useBackend(backend);
    const x = tf.tensor2d([[1, 2], [3, 4], [5, 6]]);
    expect(nn.splitParts(x, [1, 2]).map((t) => t.arraySync())).toEqual([[[1, 2]], [[3, 4], [5, 6]]]);
    for (const parts of [[3], [2, 1], 1, 3]) {
      const g = tf.grad((a: tf.Tensor) => tf.addN(nn.splitParts(a, parts).map((t, i) => tf.mul(tf.sum(t), i + 1))))(x);
      const sizes = typeof parts === 'number' ? Array<number>(parts).fill(3 / parts) : parts;
      const expected = sizes.flatMap((n, i) => Array<number[]>(n).fill([i + 1, i + 1]));
      expect([JSON.stringify(parts), g.arraySync()]).toEqual([JSON.stringify(parts), expected]);
    }
  });
});
