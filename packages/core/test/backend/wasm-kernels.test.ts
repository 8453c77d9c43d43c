/**
 * MIGE's wasm kernels against the cpu backend. Kernel registration is global and persists for the
 * rest of this file, so the "before" checks come first and everything after runs registered.
 */
import * as tf from '@tensorflow/tfjs-core';
// tfjs-core does not register its gradients by itself.
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ADDED_WASM_KERNELS,
  REPLACED_WASM_KERNELS,
  registerWasmKernels,
  wasmKernelsRegistered,
} from '../../src/backend/wasm-kernels/index.js';
import { setIm2colChunkElemsForTesting } from '../../src/backend/wasm-kernels/conv2d-backprop-filter.js';
import { reduceTranspose } from '../../src/backend/wasm-kernels/copy-kernels.js';
import { maxDiffVsCpu, randomTensor, randomValues, relDiffVsCpu, runOn } from './kernel-compare.js';

const REL_TOL = 1e-5;
type Pad = 'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]];

/** sum(f(...) * R) with a fixed random R, so dy is R rather than ones. */
function weightedSum(y: tf.Tensor, seed: number): tf.Tensor {
  return tf.sum(tf.mul(y, randomTensor(y.shape, seed)));
}

function wasmBackend(): BackendWasm {
  return tf.findBackend('wasm') as BackendWasm;
}

describe('wasm backend before registerWasmKernels', () => {
  it('lacks the gradient kernels, so conv2d / depthwise / gather gradients fail', async () => {
    await tf.setBackend('wasm');
    await tf.ready();
    for (const name of ADDED_WASM_KERNELS) expect(tf.getKernel(name, 'wasm'), name).toBeUndefined();
    expect(wasmKernelsRegistered()).toBe(false);
    const x = randomTensor([1, 5, 5, 2], 1);
    const w = randomTensor([3, 3, 2, 4], 2);
    expect(() => tf.grad((f: tf.Tensor) => tf.sum(tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, 1, 'same')))(w)).toThrow(
      /Conv2DBackpropFilter/,
    );
    const dw = randomTensor([3, 3, 2, 1], 3);
    expect(() =>
      tf.grad((f: tf.Tensor) => tf.sum(tf.depthwiseConv2d(x as tf.Tensor4D, f as tf.Tensor4D, 1, 'same')))(dw),
    ).toThrow(/DepthwiseConv2dNativeBackpropFilter/);
    const table = randomTensor([6, 3], 4);
    expect(() => tf.grad((t: tf.Tensor) => tf.sum(tf.gather(t, tf.tensor1d([1, 2, 1], 'int32'))))(table)).toThrow(
      /UnsortedSegmentSum/,
    );
    expect(() => tf.grad((t: tf.Tensor) => tf.sum(tf.stridedSlice(t, [1], [3])))(table)).toThrow(/StridedSlice/);
    tf.dispose([x, w, dw, table]);
  });
});

describe('registerWasmKernels', () => {
  beforeAll(() => {
    registerWasmKernels();
  });

  it('registers the missing kernels and replaces the copy kernels, idempotently', () => {
    expect(wasmKernelsRegistered()).toBe(true);
    const before = REPLACED_WASM_KERNELS.map((n) => tf.getKernel(n, 'wasm')?.kernelFunc);
    registerWasmKernels();
    registerWasmKernels();
    expect(REPLACED_WASM_KERNELS.map((n) => tf.getKernel(n, 'wasm')?.kernelFunc)).toEqual(before);
    for (const name of ADDED_WASM_KERNELS) expect(tf.getKernel(name, 'wasm'), name).toBeDefined();
    // The cpu registry is untouched.
    expect(tf.getKernel('Slice', 'cpu')?.kernelFunc).not.toBe(tf.getKernel('Slice', 'wasm')?.kernelFunc);
    expect(tf.getGradient('StridedSlice')).toBeDefined();
  });

  describe('copy kernels match cpu exactly', () => {
    const sliceCases: Array<[number[], number[], number[]]> = [
      [[10], [3], [4]],
      [[10], [0], [-1]],
      [[7, 9], [2, 3], [4, 5]],
      [[7, 9], [2, 0], [3, 9]],
      [[7, 9], [0, 8], [7, 1]],
      [[4, 5, 6], [1, 2, 3], [2, 2, 2]],
      [[4, 5, 6], [3, 0, 0], [1, 5, 6]],
      [[4, 5, 6], [0, 4, 0], [-1, 1, -1]],
      [[4, 5, 6], [1, 1, 5], [3, 4, 1]],
      [[3, 4, 5, 40], [1, 0, 2, 0], [2, 4, 3, 40]],
      [[3, 4, 5, 40], [0, 1, 1, 7], [3, 2, 3, 30]],
      [[3, 4, 5, 6], [2, 3, 4, 5], [1, 1, 1, 1]],
      [[2, 3, 4, 5, 6], [1, 0, 1, 2, 0], [1, 3, 2, 2, 6]],
      [[4, 5, 6], [1, 2, 3], [0, 2, 2]],
    ];
    for (const dtype of ['float32', 'int32', 'bool'] as const) {
      it(`Slice, ranks 1-5 (${dtype})`, async () => {
        for (const [shape, begin, size] of sliceCases) {
          const d = await maxDiffVsCpu(() => tf.slice(randomTensor(shape, 11, dtype), begin, size));
          expect(d, `slice [${shape}] begin [${begin}] size [${size}]`).toBe(0);
        }
      });
    }

    it('Unpack on every axis', async () => {
      for (const shape of [[6], [3, 4], [3, 4, 5], [2, 3, 4, 50], [24, 16, 16]]) {
        for (let axis = 0; axis < shape.length; axis++) {
          for (const dtype of ['float32', 'int32', 'bool'] as const) {
            const d = await maxDiffVsCpu(() => tf.unstack(randomTensor(shape, 12, dtype), axis));
            expect(d, `unstack [${shape}] axis ${axis} ${dtype}`).toBe(0);
          }
        }
      }
    });

    it('SplitV with counts and sizes on every axis', async () => {
      for (const [shape, splits] of [
        [[6, 4, 30], 2],
        [[6, 4, 30], [1, 2, -1]],
        [[12, 6, 30], 3],
      ] as Array<[number[], number | number[]]>) {
        for (let axis = 0; axis < shape.length; axis++) {
          if (typeof splits === 'number' && shape[axis]! % splits !== 0) continue;
          if (Array.isArray(splits) && shape[axis]! < 4) continue;
          // prepareSplitSize rewrites a -1 entry in place, so every run gets a fresh array.
          const d = await maxDiffVsCpu(() => tf.split(randomTensor(shape, 13), Array.isArray(splits) ? splits.slice() : splits, axis));
          expect(d, `split [${shape}] ${JSON.stringify(splits)} axis ${axis}`).toBe(0);
        }
      }
    });

    it('StridedSlice: unit-stride, masked, shrinking, new-axis and strided (delegated) cases', async () => {
      const cases: Array<[number[], number[], number[], number[], number, number, number, number, number]> = [
        // shape, begin, end, strides, beginMask, endMask, ellipsisMask, newAxisMask, shrinkAxisMask
        [[8, 6, 5], [1, 2, 0], [5, 4, 5], [1, 1, 1], 0, 0, 0, 0, 0],
        [[8, 6, 5], [2, 0, 0], [6, 0, 0], [1, 1, 1], 0, 6, 0, 0, 0],
        [[8, 6, 5], [0, 3, 1], [0, 4, 4], [1, 1, 1], 1, 1, 0, 0, 2],
        [[8, 6, 5], [1, 0, 0], [3, 0, 0], [1, 1, 1], 0, 0, 2, 0, 0],
        [[8, 6, 5], [0, 0, 1], [0, 0, 3], [1, 1, 1], 3, 3, 0, 2, 0],
        [[8, 6, 5], [-3, 0, 0], [-1, 6, 5], [1, 1, 1], 0, 0, 0, 0, 0],
        [[8, 6, 5], [0, 0, 0], [8, 6, 5], [1, 1, 1], 0, 0, 0, 0, 0],
        [[8, 6, 5], [1, 0, 4], [7, 6, 0], [2, 1, -1], 0, 0, 0, 0, 0],
        [[8, 6, 5], [7, 5, 0], [0, 0, 5], [-3, -2, 2], 0, 0, 0, 0, 0],
        [[10], [1], [9], [3], 0, 0, 0, 0, 0],
      ];
      for (const [shape, b, e, s, bm, em, elm, nam, sam] of cases) {
        const d = await maxDiffVsCpu(() => tf.stridedSlice(randomTensor(shape, 14), b, e, s, bm, em, elm, nam, sam));
        expect(d, `stridedSlice [${shape}] ${b} ${e} ${s} masks ${bm},${em},${elm},${nam},${sam}`).toBe(0);
      }
      // An empty unit-stride slice (begin > end): cpu and the stock wasm kernel throw, ours returns empty.
      const [empty] = await runOn('wasm', () => tf.stridedSlice(randomTensor([8, 6, 5], 14), [5, 2, 0], [2, 4, 5]));
      expect(empty!.shape).toEqual([0, 2, 5]);
      // Unit-stride slices of int32/bool take our copy path too.
      for (const dtype of ['int32', 'bool'] as const) {
        const d = await maxDiffVsCpu(() => tf.stridedSlice(randomTensor([8, 6, 5], 15, dtype), [1, 2, 0], [5, 4, 5]));
        expect(d, dtype).toBe(0);
      }
    });

    it('Transpose: irreducible rank 5-6 perms and large matrices in JS, the rest through the stock kernel', async () => {
      const cases: Array<[number[], number[]]> = [
        [[517, 300], [1, 0]], // tiled, ragged tiles on both axes
        [[2, 3, 390, 420], [0, 1, 3, 2]], // tiled batch of matrices
        [[2, 16, 3, 4, 8], [2, 0, 3, 1, 4]],
        [[3, 4, 5, 6, 7], [4, 3, 2, 1, 0]],
        [[2, 3, 4, 5, 6, 7], [0, 2, 4, 1, 3, 5]],
        [[2, 3, 4, 5, 6, 7], [5, 1, 3, 0, 2, 4]],
        [[4, 16, 16, 2, 8], [0, 3, 1, 2, 4]],
        [[2, 1, 3, 1, 4, 5], [5, 3, 2, 1, 0, 4]],
        [[3, 1, 4], [2, 1, 0]],
        [[5, 7], [1, 0]],
        [[1, 1, 1, 1, 1], [4, 3, 2, 1, 0]],
      ];
      for (const [shape, perm] of cases) {
        for (const dtype of ['float32', 'int32', 'bool'] as const) {
          const d = await maxDiffVsCpu(() => tf.transpose(randomTensor(shape, 16, dtype), perm));
          expect(d, `transpose [${shape}] perm [${perm}] ${dtype}`).toBe(0);
        }
      }
      expect(reduceTranspose([2, 16, 3, 4, 8], [0, 1, 3, 2, 4])).toEqual({ shape: [32, 3, 4, 8], perm: [0, 2, 1, 3] });
      expect(reduceTranspose([2, 1, 3, 4], [3, 1, 0, 2])).toEqual({ shape: [6, 4], perm: [1, 0] });
      expect(reduceTranspose([2, 3, 4, 5, 6], [4, 3, 2, 1, 0]).shape).toEqual([2, 3, 4, 5, 6]);
    });

    it('Concat, Pack and the gradients of slice/unstack/split still agree', async () => {
      const d = await maxDiffVsCpu(() => {
        const x = randomTensor([4, 5, 6], 17);
        const g = tf.grads((a: tf.Tensor) =>
          tf.addN([
            weightedSum(tf.slice(a, [1, 1, 1], [2, 3, 4]), 1),
            weightedSum(tf.stack(tf.unstack(a, 1), 2), 2),
            weightedSum(tf.concat(tf.split(a, [2, 4], 2).reverse(), 2), 3),
          ]),
        )([x]);
        return g;
      });
      expect(d).toBeLessThan(1e-5);
    });
  });

  describe('Conv2DBackpropFilter (conv2d / conv2dTranspose gradients)', () => {
    const convCases: Array<{ x: number[]; w: number[]; s: number | [number, number]; pad: Pad; round?: 'floor' | 'round' | 'ceil' }> = [
      { x: [2, 9, 11, 3], w: [3, 3, 3, 5], s: 1, pad: 'same' },
      { x: [2, 9, 11, 3], w: [3, 3, 3, 5], s: 1, pad: 'valid' },
      { x: [2, 9, 11, 3], w: [3, 3, 3, 5], s: 2, pad: 'same' },
      { x: [2, 9, 11, 3], w: [3, 2, 3, 4], s: [2, 1], pad: 'valid' },
      { x: [1, 10, 10, 4], w: [5, 5, 4, 6], s: 3, pad: 'same' },
      { x: [2, 8, 8, 8], w: [2, 2, 8, 24], s: 2, pad: 'valid' },
      { x: [2, 7, 6, 40], w: [1, 1, 40, 30], s: 1, pad: 'valid' },
      { x: [1, 7, 9, 2], w: [3, 3, 2, 3], s: 1, pad: [[0, 0], [1, 2], [2, 0], [0, 0]] },
      { x: [1, 7, 9, 2], w: [3, 3, 2, 3], s: 2, pad: 1, round: 'ceil' },
      { x: [2, 6, 6, 3], w: [3, 3, 3, 2], s: 2, pad: 2, round: 'floor' },
    ];
    for (const c of convCases) {
      it(`conv2d gradients x[${c.x}] w[${c.w}] strides ${JSON.stringify(c.s)} pad ${JSON.stringify(c.pad)}`, async () => {
        const rel = await relDiffVsCpu(() =>
          tf.grads((x: tf.Tensor, w: tf.Tensor) =>
            weightedSum(tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, c.s, c.pad, 'NHWC', 1, c.round), 5),
          )([randomTensor(c.x, 21), randomTensor(c.w, 22)]),
        );
        expect(rel).toBeLessThan(REL_TOL);
      });
    }

    it('3-D input (no batch dim) and a fused conv with bias and relu', async () => {
      const rel = await relDiffVsCpu(() =>
        tf.grads((x: tf.Tensor, w: tf.Tensor, b: tf.Tensor) =>
          weightedSum(
            tf.fused.conv2d({ x: x as tf.Tensor3D, filter: w as tf.Tensor4D, strides: 1, pad: 'same', bias: b, activation: 'relu' }),
            6,
          ),
        )([randomTensor([6, 7, 3], 23), randomTensor([3, 3, 3, 4], 24), randomTensor([4], 25)]),
      );
      expect(rel).toBeLessThan(REL_TOL);
    });

    it('sums im2col chunks correctly when the problem is split along M', async () => {
      setIm2colChunkElemsForTesting(100);
      try {
        const rel = await relDiffVsCpu(() =>
          tf.grads((x: tf.Tensor, w: tf.Tensor) => weightedSum(tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same'), 7))([
            randomTensor([2, 6, 5, 3], 26),
            randomTensor([3, 3, 3, 4], 27),
          ]),
        );
        expect(rel).toBeLessThan(REL_TOL);
      } finally {
        setIm2colChunkElemsForTesting();
      }
    });

    it('NCHW through the kernel directly (tfjs-wasm conv2d forward is NHWC only)', async () => {
      const cases: Array<{ pad: Pad; dy: number[] }> = [
        { pad: 'same', dy: [2, 5, 5, 4] },
        { pad: 'valid', dy: [2, 5, 4, 3] },
      ];
      for (const c of cases) {
        const co = c.dy[1]!;
        const rel = await relDiffVsCpu(
          () =>
            tf.engine().runKernel(
              'Conv2DBackpropFilter',
              { x: randomTensor([2, 3, 9, 8], 28), dy: randomTensor(c.dy, 29) },
              { strides: 2, pad: c.pad as 'same' | 'valid', dataFormat: 'NCHW', filterShape: [3, 3, 3, co] },
            ) as tf.Tensor,
        );
        expect(rel, `NCHW pad ${c.pad}`).toBeLessThan(REL_TOL);
      }
    });

    it('dilated filter gradient (kernel called directly) matches a direct sum', async () => {
      // tfjs's conv2d gradient rejects dilations > 1 on every backend; the kernel still supports them.
      const [B, H, W, CI, KH, KW, CO, dh, dw] = [2, 9, 10, 3, 3, 2, 4, 2, 3];
      const xv = randomValues(B * H * W * CI, 31);
      const conv = () =>
        tf.tidy(() => tf.conv2d(tf.tensor4d(xv, [B, H, W, CI]), tf.zeros([KH, KW, CI, CO]) as tf.Tensor4D, 1, 'same', 'NHWC', [dh, dw]));
      const [wasmY] = await runOn('wasm', conv);
      const [OH, OW] = [wasmY!.shape[1]!, wasmY!.shape[2]!];
      const dyv = randomValues(B * OH * OW * CO, 32);
      const [got] = await runOn(
        'wasm',
        () =>
          tf.engine().runKernel(
            'Conv2DBackpropFilter',
            { x: tf.tensor4d(xv, [B, H, W, CI]), dy: tf.tensor4d(dyv, [B, OH, OW, CO]) },
            { strides: 1, pad: 'same', dataFormat: 'NHWC', filterShape: [KH, KW, CI, CO], dilations: [dh, dw] },
          ) as tf.Tensor,
      );
      // 'same' padding for the effective (dilated) filter size.
      const pt = Math.floor(((OH - 1) * 1 + (KH - 1) * dh + 1 - H) / 2);
      const pl = Math.floor(((OW - 1) * 1 + (KW - 1) * dw + 1 - W) / 2);
      let maxErr = 0;
      let scale = 0;
      for (let kh = 0; kh < KH; kh++)
        for (let kw = 0; kw < KW; kw++)
          for (let ci = 0; ci < CI; ci++)
            for (let co = 0; co < CO; co++) {
              let s = 0;
              for (let b = 0; b < B; b++)
                for (let oh = 0; oh < OH; oh++)
                  for (let ow = 0; ow < OW; ow++) {
                    const ih = oh - pt + kh * dh;
                    const iw = ow - pl + kw * dw;
                    if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                    s += xv[((b * H + ih) * W + iw) * CI + ci]! * dyv[((b * OH + oh) * OW + ow) * CO + co]!;
                  }
              const v = got!.values[((kh * KW + kw) * CI + ci) * CO + co]!;
              maxErr = Math.max(maxErr, Math.abs(v - s));
              scale = Math.max(scale, Math.abs(s));
            }
      expect(maxErr / scale).toBeLessThan(REL_TOL);
    });

    it('conv2dTranspose gradients (input via conv2d, filter via Conv2DBackpropFilter)', async () => {
      const cases: Array<{ x: number[]; w: number[]; out: [number, number, number, number]; s: number; pad: 'same' | 'valid' }> = [
        { x: [2, 4, 5, 6], w: [3, 3, 4, 6], out: [2, 8, 10, 4], s: 2, pad: 'same' },
        { x: [1, 4, 4, 3], w: [2, 2, 5, 3], out: [1, 8, 8, 5], s: 2, pad: 'valid' },
        { x: [2, 5, 5, 2], w: [3, 3, 3, 2], out: [2, 7, 7, 3], s: 1, pad: 'valid' },
      ];
      for (const c of cases) {
        const rel = await relDiffVsCpu(() =>
          tf.grads((x: tf.Tensor, w: tf.Tensor) =>
            weightedSum(tf.conv2dTranspose(x as tf.Tensor4D, w as tf.Tensor4D, c.out, c.s, c.pad), 8),
          )([randomTensor(c.x, 33), randomTensor(c.w, 34)]),
        );
        expect(rel, JSON.stringify(c)).toBeLessThan(REL_TOL);
      }
    });
  });

  describe('depthwise conv gradients', () => {
    const cases: Array<{ x: number[]; w: number[]; s: number; pad: Pad }> = [
      { x: [2, 8, 9, 4], w: [3, 3, 4, 1], s: 1, pad: 'same' },
      { x: [2, 8, 9, 4], w: [3, 3, 4, 2], s: 2, pad: 'same' },
      { x: [1, 9, 7, 3], w: [5, 3, 3, 3], s: 1, pad: 'valid' },
      { x: [2, 7, 7, 6], w: [2, 2, 6, 1], s: 2, pad: 'valid' },
      { x: [1, 6, 8, 2], w: [3, 3, 2, 2], s: 1, pad: [[0, 0], [2, 1], [0, 2], [0, 0]] },
    ];
    for (const c of cases) {
      it(`depthwiseConv2d x[${c.x}] w[${c.w}] strides ${c.s} pad ${JSON.stringify(c.pad)}`, async () => {
        const rel = await relDiffVsCpu(() =>
          tf.grads((x: tf.Tensor, w: tf.Tensor) =>
            weightedSum(tf.depthwiseConv2d(x as tf.Tensor4D, w as tf.Tensor4D, c.s, c.pad), 9),
          )([randomTensor(c.x, 41), randomTensor(c.w, 42)]),
        );
        expect(rel).toBeLessThan(REL_TOL);
      });
    }

    it('the backprop kernels themselves are bit-identical to cpu', async () => {
      const x = [2, 8, 9, 4];
      const w = [3, 3, 4, 2];
      const dy = [2, 4, 5, 8];
      const attrs = { strides: 2, dilations: 1, pad: 'same' as const };
      const dFilter = await maxDiffVsCpu(
        () =>
          tf.engine().runKernel(
            'DepthwiseConv2dNativeBackpropFilter',
            { x: randomTensor(x, 43), dy: randomTensor(dy, 44) },
            { ...attrs, filterShape: w as [number, number, number, number] },
          ) as tf.Tensor,
      );
      const dInput = await maxDiffVsCpu(
        () =>
          tf.engine().runKernel(
            'DepthwiseConv2dNativeBackpropInput',
            { dy: randomTensor(dy, 45), filter: randomTensor(w, 46) },
            { ...attrs, inputShape: x as [number, number, number, number] },
          ) as tf.Tensor,
      );
      expect(dFilter).toBe(0);
      expect(dInput).toBe(0);
    });
  });

  describe('UnsortedSegmentSum and the gather gradient', () => {
    it('forward matches cpu exactly: repeats, empty segments, out-of-range ids, int32 x', async () => {
      const ids = [3, 0, 3, 7, 1, 3, -1, 9, 0, 3];
      for (const [xShape, dtype] of [
        [[10], 'float32'],
        [[10, 6], 'float32'],
        [[10, 2, 3], 'int32'],
      ] as Array<[number[], 'float32' | 'int32']>) {
        const d = await maxDiffVsCpu(() => tf.unsortedSegmentSum(randomTensor(xShape, 51, dtype), tf.tensor1d(ids, 'int32'), 8));
        expect(d, `x [${xShape}] ${dtype}`).toBe(0);
      }
    });

    it('2-D segment ids follow TensorFlow (sum over all id dims), like flattening ids and x', async () => {
      // The cpu kernel cannot broadcast rank > 1 ids, so cpu runs the flattened equivalent.
      const ids = [0, 1, 1, 2, 0, 0, 1, 1, 1, 2, 2, 0, -1, 0, 4];
      const [got] = await runOn('wasm', () =>
        // The op is typed for 1-D ids but passes any rank to the kernel.
        tf.unsortedSegmentSum(randomTensor([5, 3, 4], 52), tf.tensor2d(ids, [5, 3], 'int32') as unknown as tf.Tensor1D, 3),
      );
      const [ref] = await runOn('cpu', () =>
        tf.unsortedSegmentSum(tf.reshape(randomTensor([5, 3, 4], 52), [15, 4]), tf.tensor1d(ids, 'int32'), 3),
      );
      expect(got!.shape).toEqual([3, 4]);
      expect(Array.from(got!.values)).toEqual(Array.from(ref!.values));
    });

    it('unsortedSegmentSum gradient', async () => {
      const rel = await relDiffVsCpu(() =>
        tf.grads((x: tf.Tensor) => weightedSum(tf.unsortedSegmentSum(x, tf.tensor1d([2, 0, 2, 1, 4], 'int32'), 5), 10))([
          randomTensor([5, 7], 53),
        ]),
      );
      expect(rel).toBeLessThan(REL_TOL);
    });

    it('embedding (gather) gradients on axis 0 and axis 1', async () => {
      const idx = [3, 1, 3, 0, 7, 3, 1, 9];
      const rel0 = await relDiffVsCpu(() =>
        tf.grads((t: tf.Tensor) => weightedSum(tf.gather(t, tf.tensor2d(idx, [2, 4], 'int32')), 11))([randomTensor([12, 16], 54)]),
      );
      const rel1 = await relDiffVsCpu(() =>
        tf.grads((t: tf.Tensor) => weightedSum(tf.gather(t, tf.tensor1d(idx, 'int32'), 1), 12))([randomTensor([3, 10, 4], 55)]),
      );
      // (batchDims = 1 is not covered: tfjs's gather gradient then needs chained ops (x.split), on any backend.)
      expect(rel0).toBeLessThan(REL_TOL);
      expect(rel1).toBeLessThan(REL_TOL);
    });
  });

  describe('StridedSlice gradient', () => {
    /** Each case's reference gradient comes from slice (unit strides) or per-axis gathers, which tfjs differentiates. */
    const cases: Array<{ shape: number[]; begin: number[]; end: number[]; strides: number[]; axesIdx: number[][] }> = [
      { shape: [6, 5], begin: [1, 2], end: [4, 5], strides: [1, 1], axesIdx: [[1, 2, 3], [2, 3, 4]] },
      { shape: [9, 5], begin: [1, 0], end: [8, 5], strides: [3, 2], axesIdx: [[1, 4, 7], [0, 2, 4]] },
      { shape: [9, 5], begin: [8, 4], end: [0, -6], strides: [-2, -1], axesIdx: [[8, 6, 4, 2], [4, 3, 2, 1, 0]] },
      { shape: [4, 6, 3], begin: [0, 5, 1], end: [4, 0, 3], strides: [2, -3, 1], axesIdx: [[0, 2], [5, 2], [1, 2]] },
    ];
    for (const c of cases) {
      it(`matches a gather-based reference: [${c.shape}] ${c.begin}:${c.end}:${c.strides}`, async () => {
        for (const backend of ['cpu', 'wasm'] as const) {
          const x = () => randomTensor(c.shape, 61);
          const [got] = await runOn(backend, () =>
            tf.grad((t: tf.Tensor) => weightedSum(tf.stridedSlice(t, c.begin, c.end, c.strides), 14))(x()),
          );
          const [ref] = await runOn(backend, () =>
            tf.grad((t: tf.Tensor) => {
              let g = t;
              c.axesIdx.forEach((ix, axis) => {
                g = tf.gather(g, tf.tensor1d(ix, 'int32'), axis);
              });
              return weightedSum(g, 14);
            })(x()),
          );
          expect(got!.shape).toEqual(c.shape);
          expect(Array.from(got!.values), backend).toEqual(Array.from(ref!.values));
        }
      });
    }

    it('handles shrink / new-axis / ellipsis masks and empty slices', async () => {
      for (const backend of ['cpu', 'wasm'] as const) {
        const [g1] = await runOn(backend, () =>
          tf.grad((t: tf.Tensor) => weightedSum(tf.stridedSlice(t, [0, 2, 0], [0, 3, 0], [1, 1, 1], 5, 5, 0, 0, 2), 15))(
            randomTensor([3, 4, 5], 62),
          ),
        );
        const [r1] = await runOn(backend, () =>
          tf.grad((t: tf.Tensor) => weightedSum(tf.squeeze(tf.slice(t, [0, 2, 0], [3, 1, 5]), [1]), 15))(
            randomTensor([3, 4, 5], 62),
          ),
        );
        expect(Array.from(g1!.values)).toEqual(Array.from(r1!.values));
        const [g2] = await runOn(backend, () =>
          tf.grad((t: tf.Tensor) => weightedSum(tf.stridedSlice(t, [0, 1], [0, 3], [1, 1], 0, 0, 1, 2, 0), 16))(
            randomTensor([3, 4, 5], 63),
          ),
        );
        expect(g2!.shape).toEqual([3, 4, 5]);
        // A strided empty slice (cpu cannot run a unit-stride empty one forward).
        const [g3] = await runOn(backend, () =>
          tf.grad((t: tf.Tensor) => tf.sum(tf.stridedSlice(t, [3], [1], [2])))(randomTensor([5], 64)),
        );
        expect(Array.from(g3!.values)).toEqual([0, 0, 0, 0, 0]);
      }
      const [g4] = await runOn('wasm', () =>
        tf.grad((t: tf.Tensor) => tf.sum(tf.stridedSlice(t, [3], [1])))(randomTensor([5], 64)),
      );
      expect(Array.from(g4!.values)).toEqual([0, 0, 0, 0, 0]);
    });
  });

  describe('resource hygiene', () => {
    it('leaves no wasm tensors behind', async () => {
      await tf.setBackend('wasm');
      const backend = wasmBackend();
      const before = backend.numDataIds();
      tf.tidy(() => {
        const x = randomTensor([2, 9, 9, 4], 71);
        const w = randomTensor([3, 3, 4, 6], 72);
        const dw = randomTensor([3, 3, 4, 2], 73);
        tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) =>
          tf.addN([
            weightedSum(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 'same'), 1),
            weightedSum(tf.depthwiseConv2d(a as tf.Tensor4D, c as tf.Tensor4D, 1, 'valid'), 2),
            weightedSum(tf.transpose(tf.reshape(a, [2, 3, 3, 9, 4]), [4, 2, 0, 3, 1]), 3),
            weightedSum(tf.stridedSlice(a, [0, 1], [2, 8], [1, 3]), 4),
            tf.sum(tf.stack(tf.unstack(a, 3))),
          ]),
        )([x, w, dw]);
      });
      setIm2colChunkElemsForTesting(200);
      tf.tidy(() => {
        tf.grad((b: tf.Tensor) => tf.sum(tf.conv2d(randomTensor([1, 6, 6, 2], 74) as tf.Tensor4D, b as tf.Tensor4D, 1, 'same')))(
          randomTensor([3, 3, 2, 3], 75),
        );
      });
      setIm2colChunkElemsForTesting();
      expect(backend.numDataIds()).toBe(before);
    });
  });

  afterAll(async () => {
    await tf.setBackend('wasm');
  });
});
