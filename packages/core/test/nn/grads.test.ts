// The hand-written gradients of the fast-path ops against tfjs's own autodiff of the plain
// formulations (which use transposed/batched products and are slow on wasm, but are the reference).
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../src/rng.js';
import { attention, geluTanh, layerNorm, linear, matmul2d, Linear } from '../../src/nn/index.js';
import { TEST_BACKENDS, expectClose, useBackend } from '../helpers.js';

const rng = new Rng('grads');
const randn = (shape: number[]) => rng.randn(shape);

function gradsOf(f: (...xs: tf.Tensor[]) => tf.Tensor, inputs: tf.Tensor[], r: tf.Tensor): tf.Tensor[] {
  return tf.grads((...xs: tf.Tensor[]) => tf.sum(tf.mul(f(...xs), r)))(inputs);
}

describe.each(TEST_BACKENDS)('custom gradients on %s', (backend) => {
  beforeAll(() => useBackend(backend));

  it('linear (with and without bias) and matmul2d', () => {
    const x = randn([3, 5, 7]), w = randn([4, 7]), b = randn([4]), r = randn([3, 5, 4]);
    const ref = (xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) => tf.add(tf.reshape(tf.matMul(tf.reshape(xx, [15, 7]) as tf.Tensor2D, ww as tf.Tensor2D, false, true), [3, 5, 4]), bb);
    const ours = gradsOf((xx, ww, bb) => linear(xx, ww, bb), [x, w, b], r);
    const theirs = gradsOf(ref, [x, w, b], r);
    ours.forEach((g, i) => expectClose(g, theirs[i] as tf.Tensor, 1e-5, `linear grad ${i}`));
    const noBias = gradsOf((xx, ww) => linear(xx, ww), [x, w], r);
    const noBiasRef = gradsOf((xx, ww) => tf.reshape(tf.matMul(tf.reshape(xx, [15, 7]) as tf.Tensor2D, ww as tf.Tensor2D, false, true), [3, 5, 4]), [x, w], r);
    noBias.forEach((g, i) => expectClose(g, noBiasRef[i] as tf.Tensor, 1e-5, `linear no-bias grad ${i}`));
    const a = randn([6, 3]), c = randn([3, 2]), r2 = randn([6, 2]);
    const mm = gradsOf((p, q) => matmul2d(p as tf.Tensor2D, q as tf.Tensor2D), [a, c], r2);
    const mmRef = gradsOf((p, q) => tf.matMul(p as tf.Tensor2D, q as tf.Tensor2D), [a, c], r2);
    mm.forEach((g, i) => expectClose(g, mmRef[i] as tf.Tensor, 1e-5, `matmul2d grad ${i}`));
  });

  it('attention with an additive mask: value and gradients', () => {
    const q = randn([6, 5, 8]) as tf.Tensor3D, k = randn([6, 7, 8]) as tf.Tensor3D, v = randn([6, 7, 3]) as tf.Tensor3D;
    const mask = tf.mul(tf.cast(tf.greater(rng.rand([6, 1, 7]), 0.7), 'float32'), -1e9);
    const r = randn([6, 5, 3]);
    const ref = (qq: tf.Tensor, kk: tf.Tensor, vv: tf.Tensor) =>
      tf.matMul(tf.softmax(tf.add(tf.mul(tf.matMul(qq as tf.Tensor3D, kk as tf.Tensor3D, false, true), 0.3), mask)), vv as tf.Tensor3D);
    expectClose(attention(q, k, v, 0.3, mask), ref(q, k, v), 1e-5, 'value');
    const ours = gradsOf((qq, kk, vv) => attention(qq as tf.Tensor3D, kk as tf.Tensor3D, vv as tf.Tensor3D, 0.3, mask), [q, k, v], r);
    const theirs = gradsOf(ref, [q, k, v], r);
    ours.forEach((g, i) => expectClose(g, theirs[i] as tf.Tensor, 1e-5, `attention grad ${i}`));
    // A learned, broadcast bias [1, 5, 7] (as T5's position bias) gets its gradient too.
    const bias = randn([1, 5, 7]);
    const withBias = (qq: tf.Tensor, bb: tf.Tensor) => attention(qq as tf.Tensor3D, k, v, 0.3, bb);
    const biasRef = (qq: tf.Tensor, bb: tf.Tensor) =>
      tf.matMul(tf.softmax(tf.add(tf.mul(tf.matMul(qq as tf.Tensor3D, k, false, true), 0.3), bb)), v);
    const gb = gradsOf(withBias, [q, bias], r);
    const gbRef = gradsOf(biasRef, [q, bias], r);
    gb.forEach((g, i) => expectClose(g, gbRef[i] as tf.Tensor, 1e-5, `biased attention grad ${i}`));
  });

  it('tanh GELU through sigmoid equals the tanh formula, with its gradient', () => {
    const x = tf.mul(randn([200]), 3), r = randn([200]);
    const c = Math.sqrt(2 / Math.PI);
    const ref = (xx: tf.Tensor) => tf.mul(tf.mul(xx, 0.5), tf.add(1, tf.tanh(tf.mul(tf.add(xx, tf.mul(tf.pow(xx, 3), 0.044715)), c))));
    expectClose(geluTanh(x), ref(x), 1e-6, 'value');
    expectClose(gradsOf(geluTanh, [x], r)[0] as tf.Tensor, gradsOf(ref, [x], r)[0] as tf.Tensor, 1e-5, 'grad');
  });

  it('layerNorm gradients through autodiff stay finite and match a centred reference', () => {
    const x = randn([4, 16]), w = randn([16]), b = randn([16]), r = randn([4, 16]);
    const ref = (xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) => {
      const mean = tf.mean(xx, -1, true);
      const d = tf.sub(xx, mean);
      return tf.add(tf.mul(tf.div(d, tf.sqrt(tf.add(tf.mean(tf.square(d), -1, true), 1e-5))), ww), bb);
    };
    const ours = gradsOf((xx, ww, bb) => layerNorm(xx, 1e-5, ww, bb), [x, w, b], r);
    const theirs = gradsOf(ref, [x, w, b], r);
    ours.forEach((g, i) => expectClose(g, theirs[i] as tf.Tensor, 1e-4, `layerNorm grad ${i}`));
  });

  it('Linear reuses its transposed weight only until the weight changes, and trains through it', () => {
    const lin = new Linear(3, 2);
    const x = randn([4, 3]);
    const before = lin.forward(x);
    lin.weight.assign(tf.mul(lin.weight, 2));
    const after = lin.forward(x);
    const expected = tf.add(tf.matMul(x as tf.Tensor2D, lin.weight as tf.Tensor2D, false, true), lin.bias as tf.Tensor);
    expectClose(after, expected, 1e-6, 'after assign');
    expect(tf.max(tf.abs(tf.sub(after, before))).dataSync()[0]).toBeGreaterThan(1e-3);
    lin.cacheTransposed = false;
    expectClose(lin.forward(x), expected, 1e-6, 'without the cache');
    const { grads } = tf.variableGrads(() => tf.sum(lin.forward(x)) as tf.Scalar, [lin.weight]);
    expectClose(grads[lin.weight.name] as tf.Tensor, tf.tile(tf.sum(x, 0, true), [2, 1]), 1e-5, 'weight grad');
  });
});
