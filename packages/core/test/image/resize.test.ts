import { describe, expect, it } from 'vitest';
import { MigeInputError } from '../../src/errors.js';
import { centerCrop, resize, resizeShortSide, shortSideOutputSize } from '../../src/image/index.js';
import { roundHalfEven } from '../../src/image/crop-pad.js';
import { precomputeCoefficients, BICUBIC, BILINEAR } from '../../src/image/resample-coeffs.js';
import { countDiffs, inputImage, refImage, refsWithOp } from './refs.js';

describe('resize matches PIL Image.resize bit for bit', () => {
  const cases = refsWithOp('resize');
  it('has reference cases for every filter', () => {
    expect(cases.length).toBe(35);
    expect(new Set(cases.map((c) => c.filter))).toEqual(new Set(['nearest', 'bilinear', 'bicubic']));
  });
  it.each(cases.map((c) => [c.name, c] as const))('%s', (_name, ref) => {
    const expected = refImage(ref);
    const out = resize(inputImage(ref), ref.width!, ref.height!, ref.filter);
    expect([out.width, out.height]).toEqual([expected.width, expected.height]);
    expect(countDiffs(out.data, expected.data)).toBe(0);
  });
});

describe('resizeShortSide matches torchvision Resize(size) on PIL images', () => {
  it.each(refsWithOp('resizeShortSide').map((c) => [c.name, c] as const))('%s', (_name, ref) => {
    const expected = refImage(ref);
    const out = resizeShortSide(inputImage(ref), ref.size!, ref.filter);
    expect([out.width, out.height]).toEqual([expected.width, expected.height]);
    expect(countDiffs(out.data, expected.data)).toBe(0);
  });

  it('computes the long side as int(size * long / short)', () => {
    expect(shortSideOutputSize(1024, 768, 512)).toEqual({ width: 682, height: 512 });
    expect(shortSideOutputSize(768, 1024, 512)).toEqual({ width: 512, height: 682 });
    expect(shortSideOutputSize(37, 23, 10)).toEqual({ width: 16, height: 10 });
    expect(shortSideOutputSize(500, 500, 512)).toEqual({ width: 512, height: 512 });
    // 3 * 512 / 2 = 768 exactly; 640x427 → int(512 * 640 / 427) = int(767.39...) = 767
    expect(shortSideOutputSize(300, 200, 512)).toEqual({ width: 768, height: 512 });
    expect(shortSideOutputSize(640, 427, 512)).toEqual({ width: 767, height: 512 });
    expect(shortSideOutputSize(2000, 500, 100, 300)).toEqual({ width: 300, height: 75 });
  });

  it('rejects a bad size', () => {
    const img = { width: 2, height: 2, data: new Uint8Array(12) };
    expect(() => resizeShortSide(img, 0)).toThrow(MigeInputError);
    expect(() => resizeShortSide(img, 2.5)).toThrow(/size must be a positive integer, got 2.5/);
    expect(() => resizeShortSide(img, 4, 'bilinear', 4)).toThrow(/maxSize must be an integer greater than size=4/);
  });
});

describe('centerCrop matches torchvision CenterCrop on PIL images', () => {
  it.each(refsWithOp('centerCrop').map((c) => [c.name, c] as const))('%s', (_name, ref) => {
    const expected = refImage(ref);
    const out = centerCrop(inputImage(ref), ref.width!, ref.height!);
    expect([out.width, out.height]).toEqual([expected.width, expected.height]);
    expect(countDiffs(out.data, expected.data)).toBe(0);
  });

  it('rounds offsets half to even like Python round()', () => {
    expect([0.5, 1.5, 2.5, 7.5, 8.5, 14.5, 3.2, 3.7].map(roundHalfEven)).toEqual([0, 2, 2, 8, 8, 14, 3, 4]);
  });
});

describe('resampling coefficients', () => {
  it('are fixed-point with 22 fraction bits and sum to ~2^22', () => {
    for (const [filter, inSize, outSize] of [[BILINEAR, 37, 16], [BICUBIC, 23, 41], [BICUBIC, 1024, 512]] as const) {
      const c = precomputeCoefficients(inSize, outSize, filter);
      for (let i = 0; i < outSize; i++) {
        let sum = 0;
        for (let t = 0; t < c.count[i]!; t++) sum += c.weights[i * c.ksize + t]!;
        expect(Math.abs(sum - 2 ** 22)).toBeLessThanOrEqual(c.ksize);
      }
    }
  });

  it('widen the filter by the downscale factor', () => {
    expect(precomputeCoefficients(1024, 512, BICUBIC).ksize).toBe(9); // support 2 * 2
    expect(precomputeCoefficients(512, 1024, BICUBIC).ksize).toBe(5); // support 2, no widening
    expect(precomputeCoefficients(768, 512, BILINEAR).ksize).toBe(5); // support 1.5 → ceil 2
  });
});

describe('resize input checks', () => {
  const img = { width: 3, height: 2, data: new Uint8Array(18) };
  it('rejects bad sizes, filters and images', () => {
    expect(() => resize(img, 0, 4)).toThrow(/image size must be positive integers, got 0x4/);
    expect(() => resize(img, 4, 4, 'lanczos' as 'bicubic')).toThrow(/unknown filter 'lanczos'/);
    expect(() => resize({ width: 3, height: 2, data: new Uint8Array(17) }, 4, 4)).toThrow(
      /image data has 17 bytes, expected 18 for 3x2 RGB/,
    );
  });
  it('returns a copy for the same size', () => {
    const out = resize(img, 3, 2);
    expect(out.data).not.toBe(img.data);
    expect(out.data).toEqual(img.data);
  });
});

