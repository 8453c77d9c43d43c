/**
 * registerWasmKernels before the wasm backend has initialised (its own file, so the backend starts
 * fresh): the replaced kernels delegate some cases to the stock kernels, whose setup (binding the
 * C++ functions) must still run when the backend initialises later.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { describe, expect, it } from 'vitest';
import { registerWasmKernels, wasmKernelsRegistered } from '../../src/backend/wasm-kernels/index.js';
import { maxDiffVsCpu, randomTensor, relDiffVsCpu } from './kernel-compare.js';

describe('registerWasmKernels before setBackend("wasm")', () => {
  it('works when called before the backend initialises', async () => {
    expect(Object.keys(tf.engine().registry)).not.toContain('wasm');
    registerWasmKernels();
    expect(wasmKernelsRegistered()).toBe(true);
    await tf.setBackend('wasm');
    await tf.ready();
    expect(tf.getBackend()).toBe('wasm');

    // Cases our kernels hand to the stock ones: a real strided slice and a rank-4 transpose.
    expect(await maxDiffVsCpu(() => tf.stridedSlice(randomTensor([8, 6, 5], 1), [1, 0, 4], [7, 6, 0], [2, 1, -1]))).toBe(0);
    expect(await maxDiffVsCpu(() => tf.transpose(randomTensor([3, 4, 5, 6], 2), [0, 3, 1, 2]))).toBe(0);
    // Our own paths.
    expect(await maxDiffVsCpu(() => tf.unstack(randomTensor([4, 5, 6], 3), 1))).toBe(0);
    const rel = await relDiffVsCpu(() =>
      tf.grads((x: tf.Tensor, w: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 2, 'same'), 3)))([
        randomTensor([2, 8, 8, 3], 4),
        randomTensor([3, 3, 3, 4], 5),
      ]),
    );
    expect(rel).toBeLessThan(1e-5);
  });

  it('stays idempotent after the backend is up', async () => {
    registerWasmKernels();
    expect(wasmKernelsRegistered()).toBe(true);
    expect(await maxDiffVsCpu(() => tf.slice(randomTensor([4, 5, 6], 6), [1, 1, 1], [2, 3, 4]))).toBe(0);
  });
});
