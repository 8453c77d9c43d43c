import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { addGradients, emitGeluErf, emitGeluTanh, OnnxBuilder } from '../../src/onnx/index.js';
import { useBackend } from '../../src/testing/index.js';
import { gradParity, type GradCase } from './grad-harness.js';

/**
 * Every gradient rule against TF.js autodiff on the same inputs (relative 1e-5), each through
 * shapes that broadcast where the operator does.
 */
const TOL = 1e-5;

beforeAll(() => useBackend('cpu'));

const t = (x: Record<string, tf.Tensor>, n: string): tf.Tensor => x[n] as tf.Tensor;

/** tf.conv2d on NCHW x and an [out, in, kh, kw] weight (tfjs wants NHWC and [kh, kw, in, out]). */
function convNchw(x: tf.Tensor, w: tf.Tensor, stride: number, pad: 'valid' | 'same', extraPad?: [[number, number], [number, number]]): tf.Tensor {
  let nhwc = tf.transpose(x, [0, 2, 3, 1]);
  if (extraPad) nhwc = tf.pad(nhwc, [[0, 0], extraPad[0], extraPad[1], [0, 0]]);
  return tf.transpose(tf.conv2d(nhwc as tf.Tensor4D, tf.transpose(w, [2, 3, 1, 0]) as tf.Tensor4D, stride, pad), [0, 3, 1, 2]);
}

const CASES: Record<string, GradCase> = {
  'Add with broadcasting': { inputs: { a: [2, 3, 4], b: [4] }, build: (g, x) => g.add(x.a!, x.b!), reference: (x) => tf.add(t(x, 'a'), t(x, 'b')) },
  'Sub with broadcasting': { inputs: { a: [3, 1], b: [2, 1, 4] }, build: (g, x) => g.sub(x.a!, x.b!), reference: (x) => tf.sub(t(x, 'a'), t(x, 'b')) },
  'Mul with broadcasting': { inputs: { a: [2, 3, 4], b: [3, 1] }, build: (g, x) => g.mul(x.a!, x.b!), reference: (x) => tf.mul(t(x, 'a'), t(x, 'b')) },
  'Div with broadcasting': { inputs: { a: [2, 3, 4], b: [1, 4] }, draw: { b: 'positive' }, build: (g, x) => g.div(x.a!, x.b!), reference: (x) => tf.div(t(x, 'a'), t(x, 'b')) },
  'Pow 2, 3 and 0.5': {
    inputs: { a: [5, 6] }, draw: { a: 'positive' },
    build: (g, x) => g.add(g.add(g.pow(x.a!, g.scalar(2)), g.pow(x.a!, g.scalar(3))), g.pow(x.a!, g.scalar(0.5))),
    reference: (x) => tf.add(tf.add(tf.pow(t(x, 'a'), 2), tf.pow(t(x, 'a'), 3)), tf.pow(t(x, 'a'), 0.5)),
  },
  'Max and Min with a constant': {
    inputs: { a: [4, 5] },
    build: (g, x) => g.add(g.max(x.a!, g.scalar(0.1)), g.min(x.a!, g.scalar(-0.2))),
    reference: (x) => tf.add(tf.maximum(t(x, 'a'), 0.1), tf.minimum(t(x, 'a'), -0.2)),
  },
  'Where with a broadcast condition': {
    inputs: { c: [3, 1], a: [3, 4], b: [4] }, constant: ['c'], draw: { c: 'binary' },
    build: (g, x) => g.where(g.cast(x.c!, 'bool'), x.a!, x.b!),
    reference: (x) => tf.where(tf.cast(tf.broadcastTo(t(x, 'c'), [3, 4]), 'bool'), t(x, 'a'), tf.broadcastTo(t(x, 'b'), [3, 4])),
  },
  'Sum of three': { inputs: { a: [2, 3], b: [3], c: [2, 1] }, build: (g, x) => g.sum([x.a!, x.b!, x.c!]), reference: (x) => tf.add(tf.add(t(x, 'a'), t(x, 'b')), t(x, 'c')) },
  'unary: Neg Exp Tanh Sigmoid Erf Cos Sin Relu': {
    inputs: { a: [6, 7] },
    build: (g, x) => g.sum([g.neg(x.a!), g.exp(x.a!), g.tanh(x.a!), g.sigmoid(x.a!), g.erf(x.a!), g.cos(x.a!), g.sin(x.a!), g.relu(x.a!)]),
    reference: (x) => tf.addN([tf.neg(t(x, 'a')), tf.exp(t(x, 'a')), tf.tanh(t(x, 'a')), tf.sigmoid(t(x, 'a')), tf.erf(t(x, 'a')), tf.cos(t(x, 'a')), tf.sin(t(x, 'a')), tf.relu(t(x, 'a'))]),
  },
  'unary on positives: Sqrt Reciprocal Log': {
    inputs: { a: [6, 7] }, draw: { a: 'positive' },
    build: (g, x) => g.sum([g.sqrt(x.a!), g.reciprocal(x.a!), g.log(x.a!)]),
    reference: (x) => tf.addN([tf.sqrt(t(x, 'a')), tf.reciprocal(t(x, 'a')), tf.log(t(x, 'a'))]),
  },
  'Reshape, Transpose, Unsqueeze, Squeeze': {
    inputs: { a: [2, 3, 4] },
    build: (g, x) => g.squeeze(g.unsqueeze(g.transpose(g.reshape(x.a!, [0, -1, 2]), [2, 0, 1]), [0]), [0]),
    reference: (x) => tf.transpose(tf.reshape(t(x, 'a'), [2, 6, 2]), [2, 0, 1]),
  },
  Expand: { inputs: { a: [3, 1] }, build: (g, x) => g.expandTo(x.a!, [2, 3, 4]), reference: (x) => tf.broadcastTo(t(x, 'a'), [2, 3, 4]) },
  'Concat and Split': {
    inputs: { a: [2, 3], b: [2, 5] },
    build: (g, x) => {
      const [p, , r] = g.split(g.concat([x.a!, x.b!], 1), [2, 4, 2], 1) as [string, string, string];
      return g.concat([r, p], 1); // the middle piece gets no gradient: Split must fill zeros
    },
    reference: (x) => {
      const [p, , r] = tf.split(tf.concat([t(x, 'a'), t(x, 'b')], 1), [2, 4, 2], 1) as [tf.Tensor, tf.Tensor, tf.Tensor];
      return tf.concat([r, p], 1);
    },
  },
  'Slice and Pad': {
    inputs: { a: [4, 6] },
    build: (g, x) => g.pad(g.slice(x.a!, [1, -4], [3, 100], [0, 1]), [0, 1, 2, 0]),
    reference: (x) => tf.pad(tf.slice(t(x, 'a'), [1, 2], [2, 4]), [[0, 2], [1, 0]]),
  },
  'Gather (an embedding, repeated ids)': {
    inputs: { table: [7, 3] },
    build: (g, x) => g.gather(x.table!, g.constantI64([1, 4, 1, 6, 0, 1], [2, 3])),
    reference: (x) => tf.gather(t(x, 'table'), tf.tensor2d([1, 4, 1, 6, 0, 1], [2, 3], 'int32')),
  },
  'ReduceMean and ReduceSum': {
    inputs: { a: [3, 4, 5] },
    build: (g, x) => g.add(g.reduceMean(x.a!, [1], false), g.squeeze(g.reduceSum(x.a!, [1, -1], true), [1])),
    reference: (x) => tf.add(tf.mean(t(x, 'a'), 1), tf.reshape(tf.sum(t(x, 'a'), [1, 2]), [3, 1])),
  },
  'MatMul [B, N, K]·[K, M] (a weight)': { inputs: { a: [2, 5, 4], b: [4, 3] }, build: (g, x) => g.matMul(x.a!, x.b!), reference: (x) => tf.reshape(tf.matMul(tf.reshape(t(x, 'a'), [10, 4]), t(x, 'b')), [2, 5, 3]) },
  'MatMul through a transposed [out, in] weight, 3-D and 2-D (the Linear pattern)': {
    inputs: { a: [2, 5, 4], b: [3, 4], w: [6, 3] },
    build: (g, x) => g.matMul(g.matMul(x.a!, g.transpose(x.b!, [1, 0])), g.transpose(x.w!, [1, 0])),
    reference: (x) => tf.reshape(tf.matMul(tf.matMul(tf.reshape(t(x, 'a'), [10, 4]), t(x, 'b'), false, true), t(x, 'w'), false, true), [2, 5, 6]),
  },
  'a transposed weight used twice (no fused rule: two readers)': {
    inputs: { a: [5, 4], b: [3, 4] },
    build: (g, x) => {
      const bt = g.transpose(x.b!, [1, 0]);
      return g.add(g.matMul(x.a!, bt), g.matMul(g.mulScalar(x.a!, 2), bt));
    },
    reference: (x) => tf.add(tf.matMul(t(x, 'a'), t(x, 'b'), false, true), tf.matMul(tf.mul(t(x, 'a'), 2), t(x, 'b'), false, true)),
  },
  'MatMul batched [B, H, L, d]·[B, H, d, S]': {
    inputs: { a: [2, 3, 4, 5], b: [2, 3, 5, 6] },
    build: (g, x) => g.matMul(x.a!, x.b!),
    reference: (x) => tf.reshape(tf.matMul(tf.reshape(t(x, 'a'), [6, 4, 5]), tf.reshape(t(x, 'b'), [6, 5, 6])), [2, 3, 4, 6]),
  },
  'MatMul with a broadcast batch': {
    inputs: { a: [2, 1, 4, 5], b: [3, 5, 2] },
    build: (g, x) => g.matMul(x.a!, x.b!),
    reference: (x) => tf.matMul(tf.broadcastTo(t(x, 'a'), [2, 3, 4, 5]), tf.broadcastTo(t(x, 'b'), [2, 3, 5, 2])),
  },
  'Gemm with transposes and a bias': {
    inputs: { a: [4, 3], b: [5, 4], c: [5] },
    build: (g, x) => g.node('Gemm', [x.a!, x.b!, x.c!], { transA: 1, transB: 1, alpha: { f: 0.5 }, beta: { f: 2 } })[0] as string,
    reference: (x) => tf.add(tf.mul(tf.matMul(t(x, 'a'), t(x, 'b'), true, true), 0.5), tf.mul(t(x, 'c'), 2)),
  },
  'Softmax over the last axis': { inputs: { a: [2, 3, 7] }, build: (g, x) => g.softmax(x.a!, -1), reference: (x) => tf.softmax(t(x, 'a')) },
  'softmax(S)·V, the attention pattern (its own rule), with a bias on S': {
    inputs: { s: [2, 3, 4, 5], bias: [2, 1, 1, 5], v: [2, 3, 5, 6] },
    build: (g, x) => g.matMul(g.softmax(g.add(x.s!, x.bias!), -1), x.v!),
    reference: (x) => tf.reshape(tf.matMul(tf.reshape(tf.softmax(tf.add(t(x, 's'), t(x, 'bias'))), [6, 4, 5]), tf.reshape(t(x, 'v'), [6, 5, 6])), [2, 3, 4, 6]),
  },
  'a softmax read twice (the general rule)': {
    inputs: { s: [3, 4, 5], v: [3, 5, 2] },
    build: (g, x) => {
      const p = g.softmax(x.s!, -1);
      return g.add(g.reduceSum(g.matMul(p, x.v!), [-1], true), g.reduceSum(g.mul(p, p), [-1], true));
    },
    reference: (x) => {
      const p = tf.softmax(t(x, 's'));
      return tf.add(tf.sum(tf.matMul(p, t(x, 'v')), -1, true), tf.sum(tf.mul(p, p), -1, true));
    },
  },
  'LayerNormalization with scale and bias': {
    inputs: { a: [2, 3, 8], w: [8], b: [8] },
    build: (g, x) => g.layerNormalization(x.a!, x.w!, x.b!, 1e-5),
    reference: (x) => {
      const m = tf.moments(t(x, 'a'), -1, true);
      return tf.add(tf.mul(tf.div(tf.sub(t(x, 'a'), m.mean), tf.sqrt(tf.add(m.variance, 1e-5))), t(x, 'w')), t(x, 'b'));
    },
  },
  'LayerNormalization without an affine part (a constant scale of ones)': {
    inputs: { a: [2, 3, 8] },
    build: (g, x) => g.layerNormalization(x.a!, g.constantF32('ones', new Float32Array(8).fill(1), [8]), undefined, 1e-6),
    reference: (x) => {
      const m = tf.moments(t(x, 'a'), -1, true);
      return tf.div(tf.sub(t(x, 'a'), m.mean), tf.sqrt(tf.add(m.variance, 1e-6)));
    },
  },
  'tanh GELU (a custom gradient)': {
    inputs: { a: [4, 33] },
    build: (g, x) => emitGeluTanh(g, x.a!),
    reference: (x) => tf.mul(t(x, 'a'), tf.sigmoid(tf.mul(tf.add(t(x, 'a'), tf.mul(tf.pow(t(x, 'a'), 3), 0.044715)), 2 * Math.sqrt(2 / Math.PI)))),
  },
  'exact GELU (a custom gradient)': {
    inputs: { a: [4, 33] },
    build: (g, x) => emitGeluErf(g, x.a!),
    reference: (x) => tf.mul(t(x, 'a'), tf.mul(tf.add(tf.erf(tf.mul(t(x, 'a'), Math.SQRT1_2)), 1), 0.5)),
  },
  'Conv as a patchify (kernel = stride)': {
    inputs: { a: [2, 3, 8, 8], w: [5, 3, 2, 2], b: [5] },
    build: (g, x) => g.conv(x.a!, x.w!, x.b!, { strides: [2, 2] }),
    reference: (x) => tf.add(convNchw(t(x, 'a'), t(x, 'w'), 2, 'valid'), tf.reshape(t(x, 'b'), [5, 1, 1])),
  },
  'Conv 3×3, padding 1': {
    inputs: { a: [2, 3, 6, 6], w: [4, 3, 3, 3] },
    build: (g, x) => g.conv(x.a!, x.w!, undefined, { pads: [1, 1, 1, 1] }),
    reference: (x) => convNchw(t(x, 'a'), t(x, 'w'), 1, 'same'),
  },
  'Conv 3×3, stride 2, asymmetric pad (the VAE downsampler)': {
    inputs: { a: [2, 3, 7, 7], w: [4, 3, 3, 3] },
    build: (g, x) => g.conv(x.a!, x.w!, undefined, { strides: [2, 2], pads: [0, 0, 1, 1] }),
    reference: (x) => convNchw(t(x, 'a'), t(x, 'w'), 2, 'valid', [[0, 1], [0, 1]]),
  },
};

describe('ONNX gradient rules against TF.js autodiff', () => {
  for (const [name, c] of Object.entries(CASES)) {
    it(name, async () => {
      const { rel, worst } = await gradParity(c);
      expect(worst, JSON.stringify(rel)).toBeLessThanOrEqual(TOL);
    });
  }

  it('stopGradient blocks the gradient (x·stop(x) has gradient stop(x), not 2x)', async () => {
    const { worst } = await gradParity({
      inputs: { a: [3, 4] },
      build: (g, x) => g.mul(x.a!, g.stopGradient(x.a!)),
      reference: (x) => tf.mul(t(x, 'a'), tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => ({ value: tf.clone(args[0] as tf.Tensor), gradFunc: (dy: tf.Tensor | tf.Tensor[]) => tf.zerosLike(dy as tf.Tensor) }))(t(x, 'a'))),
    });
    expect(worst).toBeLessThanOrEqual(TOL);
  });

  it('gives no gradient to an input the loss does not depend on, and refuses operators it has no rule for', () => {
    const g = new OnnxBuilder({ name: 'g', params: { mode: 'input' } });
    const a = g.input('a', [2, 2]);
    const b = g.input('b', [2, 2]);
    const grads = addGradients(g, { loss: g.reduceSum(g.mul(a, a), [], false), wrt: [a, b] });
    expect([...grads.keys()]).toEqual([a]);
    const h = new OnnxBuilder({ name: 'h', params: { mode: 'input' } });
    const x = h.input('x', [1, 1, 2, 2]);
    const up = h.resizeNearest(x, [1, 1, 2, 2]);
    expect(() => addGradients(h, { loss: h.reduceSum(up, [], false), wrt: [x] })).toThrow(/no gradient rule for Resize/);
  });

  it('refuses a graph whose forward reads a value inside a custom gradient', () => {
    const g = new OnnxBuilder({ name: 'leak', params: { mode: 'input' } });
    const a = g.input('a', [3]);
    let inner = '';
    const y = g.customGradient([a], () => {
      inner = g.exp(a);
      return g.mul(inner, a);
    }, (dy) => [dy]);
    const leak = g.add(y, inner);
    expect(() => addGradients(g, { loss: g.reduceSum(leak, [], false), wrt: [a] })).toThrow(/inside the custom gradient of .* is read by Add/);
  });

  it('refuses a graph input with a symbolic dim', () => {
    const g = new OnnxBuilder({ name: 'sym' });
    const a = g.input('a', ['batch', 2]);
    expect(() => addGradients(g, { loss: g.reduceSum(a, [], false), wrt: [a] })).toThrow(/symbolic dim/);
  });
});
