// The bias-differentiating attention used while training T5's relative bias table must compute
// the same values and q/k/v gradients as core's nn.attention.
import { nn, tf } from '@mige/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { attentionWithBiasGrad } from '../../src/models/heads.js';
import { expectClose, TEST_BACKENDS, useBackend } from './helpers.js';

describe.each(TEST_BACKENDS)('attentionWithBiasGrad on %s', (backend) => {
  beforeAll(async () => {
    await useBackend(backend);
  });

  it('equals nn.attention forward and backward, and differentiates the bias', () => {
    const q = tf.randomNormal([6, 5, 8], 0, 1, 'float32', 1) as tf.Tensor3D;
    const k = tf.randomNormal([6, 7, 8], 0, 1, 'float32', 2) as tf.Tensor3D;
    const v = tf.randomNormal([6, 7, 4], 0, 1, 'float32', 3) as tf.Tensor3D;
    const bias = tf.randomNormal([6, 5, 7], 0, 1, 'float32', 4) as tf.Tensor3D;
    const w = tf.randomNormal([6, 5, 4], 0, 1, 'float32', 5);
    const loss = (f: typeof nn.attention) => (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor, d: tf.Tensor) =>
      tf.sum(tf.mul(f(a as tf.Tensor3D, b as tf.Tensor3D, c as tf.Tensor3D, 0.5, d), w)) as tf.Scalar;
    expectClose(attentionWithBiasGrad(q, k, v, 0.5, bias), nn.attention(q, k, v, 0.5, bias), 1e-5);
    const ours = tf.grads(loss(attentionWithBiasGrad as typeof nn.attention))([q, k, v, bias]);
    const core = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => loss(nn.attention)(a, b, c, bias))([q, k, v]);
    core.forEach((g, i) => expectClose(ours[i] as tf.Tensor, g, 1e-5, `grad ${i}`));
    expect(tf.max(tf.abs(ours[3] as tf.Tensor)).dataSync()[0]).toBeGreaterThan(0);
  });
});
