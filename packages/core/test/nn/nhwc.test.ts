// The channels-last fast paths (Conv2d.forwardNHWC, GroupNorm.forwardNHWC) against the same
// PyTorch references as parity.test.ts, transposed to NHWC.
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { Conv2d, GroupNorm } from '../../src/nn/index.js';
import { TEST_BACKENDS, expectClose, useBackend } from '../helpers.js';
import { CONV_CASES, loadCase, ref as refRaw } from './refs.js';

const ref = (name: string): tf.Tensor4D => refRaw<tf.Tensor4D>(name); // 1-D for biases, which the tests only compare
const toNHWC = (t: tf.Tensor4D): tf.Tensor4D => tf.transpose(t, [0, 2, 3, 1]);

const load = loadCase;

const TOL = 1e-5;

describe.each(TEST_BACKENDS)('NHWC fast paths on %s', (backend) => {
  beforeAll(() => useBackend(backend));

  it('GroupNorm.forwardNHWC matches PyTorch, with and without the affine parameters', () => {
    const x = ref('gn.in.x');
    const gn = load(new GroupNorm(4, 16, 1e-6), 'gn');
    expectClose(gn.forwardNHWC(toNHWC(x)), toNHWC(ref('gn.out.y')), TOL, 'affine');
    const plain = new GroupNorm(4, 16, 1e-6, false);
    expectClose(plain.forwardNHWC(toNHWC(x)), toNHWC(plain.forward(x) as tf.Tensor4D), TOL, 'plain');
    // One sample alone takes the no-unstack path.
    const one = tf.slice(x, [1, 0, 0, 0], [1, -1, -1, -1]);
    expectClose(gn.forwardNHWC(toNHWC(one)), toNHWC(tf.slice(ref('gn.out.y'), [1, 0, 0, 0], [1, -1, -1, -1])), TOL, 'B=1');
  });

  it('GroupNorm.forwardNHWC keeps precision when the mean dwarfs the spread', () => {
    // Mean 30, spread 0.1: E[x²] − E[x]² would lose about 1% of the variance here.
    const x = tf.add(tf.mul(ref('gn.in.x'), 0.1), 30) as tf.Tensor4D;
    const gn = new GroupNorm(4, 16, 1e-6, false);
    expectClose(gn.forwardNHWC(toNHWC(x)), toNHWC(gn.forward(x) as tf.Tensor4D), 5e-4, 'offset input');
  });

  it('GroupNorm.forwardNHWC gradients equal the NCHW ones', () => {
    const gn = load(new GroupNorm(4, 16, 1e-6), 'gn');
    const x = ref('gn.in.x');
    const r = tf.randomNormal(x.shape, 0, 1, 'float32', 3);
    const lossNCHW = () => tf.sum(tf.mul(gn.forward(x), r)) as tf.Scalar;
    const lossNHWC = () => tf.sum(tf.mul(gn.forwardNHWC(toNHWC(x)), toNHWC(r as tf.Tensor4D))) as tf.Scalar;
    const vars = [gn.weight as tf.Variable, gn.bias as tf.Variable];
    const a = tf.variableGrads(lossNCHW, vars).grads;
    const b = tf.variableGrads(lossNHWC, vars).grads;
    for (const v of vars) expectClose(b[v.name] as tf.Tensor, a[v.name] as tf.Tensor, 1e-4, v.name);
    const dx = tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(gn.forwardNHWC(xx), toNHWC(r as tf.Tensor4D))))(toNHWC(x));
    const dxRef = tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(gn.forward(xx), r)))(x);
    expectClose(dx, toNHWC(dxRef as tf.Tensor4D), 1e-4, 'dx');
  });

  it.each(CONV_CASES)('Conv2d.forwardNHWC %s: forward and gradients', (name, cin, cout, k, stride, padding, dilation) => {
    const m = load(new Conv2d(cin, cout, k, { stride, padding, dilation }), name);
    const x = toNHWC(ref(`${name}.in.x`));
    const r = toNHWC(ref(`${name}.in.r`));
    expectClose(m.forwardNHWC(x), toNHWC(ref(`${name}.out.y`)), TOL, 'y');
    const { grads } = tf.variableGrads(() => tf.sum(tf.mul(m.forwardNHWC(x), r)) as tf.Scalar, [m.weight, m.bias as tf.Variable]);
    expectClose(grads[m.weight.name] as tf.Tensor, ref(`${name}.grad.weight`), 1e-4, 'dW');
    expectClose(grads[(m.bias as tf.Variable).name] as tf.Tensor, ref(`${name}.grad.bias`), 1e-4, 'db');
    const dx = tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(m.forwardNHWC(xx), r)))(x);
    expectClose(dx, toNHWC(ref(`${name}.grad.x`)), 1e-4, 'dx');
  });

  it('Conv2d.forwardNHWC follows weight changes and checks its input', () => {
    const m = load(new Conv2d(3, 5, 3, { padding: 1 }), 'conv3x3');
    const x = toNHWC(ref('conv3x3.in.x'));
    const before = m.forwardNHWC(x);
    m.weight.assign(tf.mul(m.weight, 2));
    m.bias?.assign(tf.mul(m.bias, 2));
    expectClose(m.forwardNHWC(x), tf.mul(before, 2), 1e-5, 'doubled');
    expect(() => m.forwardNHWC(ref('conv3x3.in.x'))).toThrow(/expected \[B, H, W, 3\]/);
  });

  it('Conv2d.forwardNHWC leaves no tensors behind', () => {
    const m = load(new Conv2d(3, 5, 3, { padding: 1 }), 'conv3x3');
    const x = toNHWC(ref('conv3x3.in.x'));
    tf.tidy(() => m.forwardNHWC(x)).dispose();
    const n = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) tf.tidy(() => m.forwardNHWC(x)).dispose();
    expect(tf.memory().numTensors).toBe(n);
    m.dispose();
  });
});
