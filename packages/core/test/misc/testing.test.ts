import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectClose, firstNonFinite, maxAbsDiff, useBackend } from '../../src/testing/index.js';

beforeAll(() => useBackend('cpu'));

describe('maxAbsDiff / expectClose', () => {
  it('report a NaN wherever it stands, even before finite elements (the old loop returned 0 here)', () => {
    expect(maxAbsDiff([NaN, 0], [0, 0])).toBeNaN();
    expect(maxAbsDiff([0, 0], [0, NaN])).toBeNaN();
    expect(maxAbsDiff([1, NaN, 2, 3], [1, 0, 2, 3])).toBeNaN();
  });

  it('report an infinity on either side, also when both sides hold the same one', () => {
    expect(maxAbsDiff([Infinity, 0], [0, 0])).toBeNaN();
    expect(maxAbsDiff([-Infinity, 1], [-Infinity, 1])).toBeNaN();
  });

  it('give the largest difference of finite inputs', () => {
    expect(maxAbsDiff([1, 2, 3], [1.5, 2, 1])).toBe(2);
    expect(maxAbsDiff([], [])).toBe(0);
    expect(() => maxAbsDiff([1], [1, 2])).toThrow(/sizes differ/);
  });

  it('expectClose fails on a NaN or infinity in either tensor, naming where', () => {
    const ok = tf.tensor1d([0, 0]);
    expect(() => expectClose(tf.tensor1d([NaN, 0]), ok, 1, 'out')).toThrow('out: the actual value is NaN at flat index 0');
    expect(() => expectClose(ok, tf.tensor1d([0, -Infinity]), 1, 'out')).toThrow('out: the expected value is -Infinity at flat index 1');
    expect(expectClose(tf.tensor1d([0, 1e-6]), ok, 1e-5)).toBeCloseTo(1e-6, 12);
    expect(() => expectClose(tf.tensor1d([0, 1e-4]), ok, 1e-5)).toThrow(/exceeds the tolerance/);
  });

  it('firstNonFinite finds the first bad element', () => {
    expect(firstNonFinite([1, 2, NaN, Infinity])).toEqual({ index: 2, value: NaN });
    expect(firstNonFinite(new Float32Array([1, 2]))).toBeNull();
  });
});
