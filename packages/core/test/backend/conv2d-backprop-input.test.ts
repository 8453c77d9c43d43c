/**
 * The wasm Conv2DBackpropInput replacement (a flipped-filter forward conv on XNNPACK) against the cpu
 * backend's kernel, tf.grad of conv2d on cpu, and the stock wasm kernel it replaces.
 */
import * as tf from '@tensorflow/tfjs-core';
// tfjs-core does not register its gradients by itself.
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { REPLACED_WASM_KERNELS, registerWasmKernels } from '../../src/backend/wasm-kernels/index.js';
import { conv2DBackpropInputFunc, planBackpropInput, stockConv2DBackpropInput } from '../../src/backend/wasm-kernels/conv2d-backprop-input.js';
import { randomTensor, relDiffVsCpu, runOn } from './kernel-compare.js';

const REL_TOL = 1e-5;
type ExplicitPad = [[number, number], [number, number], [number, number], [number, number]];
type Pad = 'same' | 'valid' | number | ExplicitPad;

interface Case {
  x: [number, number, number, number];
  w: [number, number, number, number];
  s: number | [number, number];
  pad: Pad;
  round?: 'floor' | 'round' | 'ceil';
}

/** Geometry of dy for a conv2d of x with w (run on cpu so it does not depend on the kernel under test). */
function dyShape(c: Case): number[] {
  const info = tf.backend_util.computeConv2DInfo(c.x, c.w, c.s, 1, c.pad, c.round);
  return info.outShape;
}

function backpropInput(c: Case, dy: tf.Tensor, w: tf.Tensor, extra: Record<string, unknown> = {}): tf.Tensor {
  return tf.engine().runKernel(
    'Conv2DBackpropInput',
    { dy, filter: w },
    { strides: c.s, pad: c.pad, dataFormat: 'NHWC', ...(c.round ? { dimRoundingMode: c.round } : {}), inputShape: c.x, ...extra },
  ) as tf.Tensor;
}

/** The stock wasm kernel on the same inputs (called directly: the registry now holds ours). */
function stockBackpropInput(c: Case, dy: tf.Tensor, w: tf.Tensor): tf.Tensor {
  const stock = stockConv2DBackpropInput.kernelFunc;
  if (!stock) throw new Error('stock kernel not captured');
  const info = stock({
    inputs: { dy, filter: w },
    backend: tf.backend(),
    attrs: { strides: c.s, pad: c.pad, dataFormat: 'NHWC', ...(c.round ? { dimRoundingMode: c.round } : {}), inputShape: c.x },
  }) as tf.TensorInfo;
  return tf.engine().makeTensorFromTensorInfo(info);
}

function relDiff(a: Float64Array, b: Float64Array): number {
  let maxAbs = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    maxAbs = Math.max(maxAbs, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return maxAbs / scale;
}

const cases: Case[] = [
  { x: [2, 8, 8, 16], w: [3, 3, 16, 16], s: 1, pad: 1 },
  { x: [1, 9, 7, 3], w: [3, 3, 3, 16], s: 1, pad: 'same' },
  { x: [3, 5, 6, 64], w: [1, 1, 64, 3], s: 1, pad: 'valid' },
  { x: [2, 7, 9, 1], w: [1, 1, 1, 16], s: 1, pad: 0 },
  { x: [2, 9, 11, 16], w: [3, 3, 16, 1], s: 2, pad: [[0, 0], [0, 1], [0, 1], [0, 0]] },
  { x: [2, 8, 8, 3], w: [3, 3, 3, 16], s: 2, pad: [[0, 0], [0, 1], [0, 1], [0, 0]] },
  { x: [1, 11, 9, 3], w: [5, 5, 3, 4], s: 1, pad: 2 },
  { x: [2, 7, 10, 3], w: [3, 2, 3, 5], s: 1, pad: 'same' },
  { x: [2, 7, 10, 3], w: [1, 3, 3, 5], s: [2, 1], pad: 'valid' },
  { x: [1, 9, 9, 4], w: [3, 3, 4, 6], s: 2, pad: 'same' },
  { x: [2, 10, 9, 2], w: [3, 3, 2, 3], s: 3, pad: 'valid' },
  { x: [1, 7, 9, 2], w: [3, 3, 2, 3], s: 2, pad: 1, round: 'ceil' },
  { x: [2, 6, 6, 64], w: [3, 3, 64, 64], s: 1, pad: 1 },
  // Kernels smaller than the stride: some dx phases get no tap and stay zero.
  { x: [2, 7, 8, 3], w: [1, 1, 3, 4], s: 2, pad: 'valid' },
  { x: [1, 8, 9, 2], w: [2, 2, 2, 3], s: 3, pad: 'valid' },
  // A bottom/right pad the phases cannot express: the spread-dy path.
  { x: [1, 5, 6, 2], w: [3, 3, 2, 3], s: 2, pad: [[0, 0], [0, 2], [0, 2], [0, 0]] },
];

describe('wasm Conv2DBackpropInput', () => {
  beforeAll(async () => {
    await tf.setBackend('wasm');
    await tf.ready();
    registerWasmKernels();
  });

  it('replaces the stock kernel and keeps it for the cases it passes on', () => {
    expect(REPLACED_WASM_KERNELS).toContain('Conv2DBackpropInput');
    expect(tf.getKernel('Conv2DBackpropInput', 'wasm')?.kernelFunc).toBe(conv2DBackpropInputFunc);
    expect(stockConv2DBackpropInput.kernelFunc).toBeDefined();
    expect(stockConv2DBackpropInput.kernelFunc).not.toBe(conv2DBackpropInputFunc);
  });

  it('takes the phase path for the VAE convs, and the spread / stock paths only where needed', () => {
    const plan = (c: Case, dilations = 1, format: 'channelsLast' | 'channelsFirst' = 'channelsLast') =>
      planBackpropInput(tf.backend_util.computeConv2DInfo(c.x, c.w, c.s, dilations, c.pad, c.round, false, format)).kind;
    const vaeDown: Case = { x: [8, 64, 64, 32], w: [3, 3, 32, 32], s: 2, pad: [[0, 0], [0, 1], [0, 1], [0, 0]] };
    expect(plan(vaeDown)).toBe('phases');
    expect(plan({ x: [8, 64, 64, 32], w: [3, 3, 32, 32], s: 1, pad: 1 })).toBe('phases');
    expect(plan(cases.at(-1)!)).toBe('spread');
    for (const c of cases.slice(0, -1)) expect(plan(c), JSON.stringify(c)).toBe('phases');
    expect(plan({ x: [1, 5, 6, 2], w: [3, 3, 2, 3], s: 1, pad: [[0, 0], [3, 0], [0, 4], [0, 0]] })).toBe('stock');
    expect(plan({ x: [1, 8, 8, 2], w: [3, 3, 2, 3], s: 1, pad: 'valid' }, 2)).toBe('stock');
    expect(plan({ x: [1, 2, 8, 8], w: [3, 3, 2, 3], s: 1, pad: 'same' }, 1, 'channelsFirst')).toBe('stock');
  });

  for (const c of cases) {
    const label = `x[${c.x}] w[${c.w}] strides ${JSON.stringify(c.s)} pad ${JSON.stringify(c.pad)}${c.round ? ` ${c.round}` : ''}`;
    it(`kernel matches cpu and the stock wasm kernel: ${label}`, async () => {
      const dyS = dyShape(c);
      const fn = () => backpropInput(c, randomTensor(dyS, 41), randomTensor(c.w, 42));
      expect(await relDiffVsCpu(fn)).toBeLessThan(REL_TOL);
      const [ours] = await runOn('wasm', fn);
      const [stock] = await runOn('wasm', () => stockBackpropInput(c, randomTensor(dyS, 41), randomTensor(c.w, 42)));
      expect(ours!.shape).toEqual(c.x);
      expect(relDiff(ours!.values, stock!.values)).toBeLessThan(REL_TOL);
    });

    it(`tf.grad of conv2d matches cpu: ${label}`, async () => {
      const dyS = dyShape(c);
      const rel = await relDiffVsCpu(() =>
        tf.grad((x: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(x as tf.Tensor4D, randomTensor(c.w, 43) as tf.Tensor4D, c.s, c.pad, 'NHWC', 1, c.round), randomTensor(dyS, 44))))(
          randomTensor(c.x, 45),
        ),
      );
      expect(rel).toBeLessThan(REL_TOL);
    });
  }

  it('conv2dTranspose (whose forward is this kernel) and its gradients match cpu', async () => {
    const rel = await relDiffVsCpu(() => {
      const x = randomTensor([2, 5, 5, 6], 47) as tf.Tensor4D;
      const w = randomTensor([3, 3, 5, 6], 48) as tf.Tensor4D;
      const grads = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
        tf.sum(tf.mul(tf.conv2dTranspose(a as tf.Tensor4D, b as tf.Tensor4D, [2, 9, 9, 5], 2, 'same'), randomTensor([2, 9, 9, 5], 46))),
      )([x, w]);
      return [tf.conv2dTranspose(x, w, [2, 9, 9, 5], 2, 'same'), ...grads];
    });
    expect(rel).toBeLessThan(REL_TOL);
  });

  it('falls back to the stock kernel (same values as cpu) for NCHW and pads wider than the kernel', async () => {
    const nchw = () =>
      tf.engine().runKernel(
        'Conv2DBackpropInput',
        { dy: randomTensor([2, 4, 5, 5], 49), filter: randomTensor([3, 3, 3, 4], 50) },
        { strides: 2, pad: 'same', dataFormat: 'NCHW', inputShape: [2, 3, 9, 10] },
      ) as tf.Tensor;
    expect(await relDiffVsCpu(nchw)).toBeLessThan(REL_TOL);
    const wide: Case = { x: [1, 5, 6, 2], w: [3, 3, 2, 3], s: 1, pad: [[0, 0], [3, 0], [0, 4], [0, 0]] };
    const dyS = dyShape(wide);
    const fn = () => backpropInput(wide, randomTensor(dyS, 51), randomTensor(wide.w, 52));
    expect(await relDiffVsCpu(fn)).toBeLessThan(REL_TOL);
    const [ours] = await runOn('wasm', fn);
    const [stock] = await runOn('wasm', () => stockBackpropInput(wide, randomTensor(dyS, 51), randomTensor(wide.w, 52)));
    expect(Array.from(ours!.values)).toEqual(Array.from(stock!.values));
  });

  it('passes dilated convolutions to the stock kernel', async () => {
    const c: Case = { x: [1, 8, 8, 2], w: [3, 3, 2, 3], s: 1, pad: 'valid' };
    const dyS = dyShape(c);
    const [ours] = await runOn('wasm', () => backpropInput(c, randomTensor(dyS, 53), randomTensor(c.w, 54), { dilations: 2 }));
    const [stock] = await runOn('wasm', () => stockBackpropInput(c, randomTensor(dyS, 53), randomTensor(c.w, 54)));
    // The stock kernel ignores dilations; what matters is that ours handed the call over unchanged.
    expect(Array.from(ours!.values)).toEqual(Array.from(stock!.values));
  });

  it('leaves no wasm tensors behind', async () => {
    await tf.setBackend('wasm');
    const backend = tf.findBackend('wasm') as BackendWasm;
    const before = backend.numDataIds();
    tf.tidy(() => {
      for (const c of cases) backpropInput(c, randomTensor(dyShape(c), 55), randomTensor(c.w, 56));
    });
    expect(backend.numDataIds()).toBe(before);
  });
});
