import { describe, expect, it } from 'vitest';
import { gatherStrided, isContiguous } from '../../src/io/strided-copy.js';

/** Storage 0..n-1 as float32 bytes. */
function storage(n: number): Uint8Array {
  return new Uint8Array(Float32Array.from({ length: n }, (_, i) => i).buffer);
}

const floats = (bytes: Uint8Array): number[] =>
  Array.from(new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4));

describe('gatherStrided', () => {
  it('materialises a 3-D permutation: x.view(2,3,4).permute(2,0,1)', () => {
    // Element (i, j, k) of the permuted view is storage[j*12 + k*4 + i].
    const out = floats(gatherStrided(storage(24), 4, [4, 2, 3], [1, 12, 4], 0));
    const expected: number[] = [];
    for (let i = 0; i < 4; i++)
      for (let j = 0; j < 2; j++) for (let k = 0; k < 3; k++) expected.push(j * 12 + k * 4 + i);
    expect(out).toEqual(expected);
  });

  it('handles offsets, broadcast (stride 0), unit inner stride, scalars and empties', () => {
    expect(floats(gatherStrided(storage(10), 4, [2, 3], [4, 1], 2))).toEqual([2, 3, 4, 6, 7, 8]);
    expect(floats(gatherStrided(storage(3), 4, [2, 3], [0, 1], 0))).toEqual([0, 1, 2, 0, 1, 2]);
    expect(floats(gatherStrided(storage(3), 4, [3, 2], [1, 0], 0))).toEqual([0, 0, 1, 1, 2, 2]);
    expect(floats(gatherStrided(storage(5), 4, [], [], 4))).toEqual([4]);
    expect(gatherStrided(storage(5), 4, [0, 3], [3, 1], 0).length).toBe(0);
  });

  it('works byte-wise for any item size', () => {
    const bytes = new Uint8Array([10, 11, 12, 13, 14, 15]);
    expect(Array.from(gatherStrided(bytes, 1, [3, 2], [1, 3], 0))).toEqual([10, 13, 11, 14, 12, 15]);
    expect(Array.from(gatherStrided(bytes, 2, [3], [1], 0))).toEqual([10, 11, 12, 13, 14, 15]);
  });
});

describe('isContiguous', () => {
  it('accepts row-major strides and ignores size-1 dims', () => {
    expect(isContiguous([2, 3, 4], [12, 4, 1])).toBe(true);
    expect(isContiguous([2, 1, 4], [4, 99, 1])).toBe(true);
    expect(isContiguous([], [])).toBe(true);
    expect(isContiguous([3, 2], [1, 3])).toBe(false);
    expect(isContiguous([2, 3], [0, 1])).toBe(false);
  });
});
