import type { RgbImage } from '@mige/core';
import { describe, expect, it } from 'vitest';
import { l1Distance, l2Distance } from '../../src/eval/pixel-metrics.js';

const img = (data: number[]): RgbImage => ({ width: 2, height: 1, data: Uint8Array.from(data) });

describe('L1 / L2 on [0, 1] pixels', () => {
  it('match hand-computed values', () => {
    const a = img([0, 0, 0, 255, 255, 255]);
    const b = img([255, 0, 0, 255, 255, 51]);
    // |diffs| / 255 = [1, 0, 0, 0, 0, 0.8] -> L1 = 1.8 / 6 = 0.3; L2 = (1 + 0.64) / 6.
    expect(l1Distance(a, b)).toBeCloseTo(0.3, 12);
    expect(l2Distance(a, b)).toBeCloseTo(1.64 / 6, 12);
    expect(l1Distance(a, a)).toBe(0);
    expect(l2Distance(a, a)).toBe(0);
  });
  it('black vs white is 1 for both', () => {
    expect(l1Distance(img([0, 0, 0, 0, 0, 0]), img([255, 255, 255, 255, 255, 255]))).toBe(1);
    expect(l2Distance(img([0, 0, 0, 0, 0, 0]), img([255, 255, 255, 255, 255, 255]))).toBe(1);
  });
  it('refuses images of different sizes', () => {
    expect(() => l1Distance(img([0, 0, 0, 0, 0, 0]), { width: 1, height: 1, data: new Uint8Array(3) })).toThrow(/size/);
  });
});
