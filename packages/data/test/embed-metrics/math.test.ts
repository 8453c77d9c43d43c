import { MigeInputError } from '@mige/core';
import { describe, expect, it } from 'vitest';
import { cosine, directionSimilarity, l2Normalize, mean, subtract } from '../../src/embed-metrics/index.js';

describe('embedding math', () => {
  it('cosine matches hand-computed values', () => {
    // (1,2,2)·(2,0,1) = 4; |a| = 3, |b| = √5 → 4 / (3√5)
    expect(cosine([1, 2, 2], [2, 0, 1])).toBeCloseTo(4 / (3 * Math.sqrt(5)), 12);
    expect(cosine([1, 0], [0, 1])).toBe(0);
    expect(cosine([3, 4], [-6, -8])).toBeCloseTo(-1, 12);
    expect(cosine([0, 0], [1, 2])).toBe(0);
  });

  it('rejects vectors of different lengths', () => {
    expect(() => cosine([1, 2], [1, 2, 3])).toThrow(MigeInputError);
  });

  it('l2Normalize gives unit vectors', () => {
    expect(Array.from(l2Normalize([3, 4]))).toEqual([Math.fround(0.6), Math.fround(0.8)]);
    expect(Array.from(l2Normalize([0, 0]))).toEqual([0, 0]);
  });

  it('directionSimilarity = cosine of the two differences', () => {
    // image diff (1,1) - (0,1) = (1,0); text diff (1,1) - (1,0) = (0,1) → orthogonal
    expect(directionSimilarity([1, 1], [0, 1], [1, 1], [1, 0])).toBe(0);
    // image diff (2,2); text diff (1,1) → same direction
    expect(directionSimilarity([3, 2], [1, 0], [1, 2], [0, 1])).toBeCloseTo(1, 12);
    // image diff (1,0); text diff (1,1) → 1/√2
    expect(directionSimilarity([1, 0], [0, 0], [2, 1], [1, 0])).toBeCloseTo(Math.SQRT1_2, 12);
    expect(Array.from(subtract([5, 1], [2, 3]))).toEqual([3, -2]);
  });

  it('mean of no scores is NaN', () => {
    expect(mean([0.5, 1])).toBe(0.75);
    expect(mean([])).toBeNaN();
  });
});
