import { describe, expect, it } from 'vitest';
import {
  f16BitsToFloat,
  f32BitsToBf16Bits,
  f32BitsToF16Bits,
  float32Bits,
  float32FromBits,
} from '../../src/io/half-float.js';

const toF16 = (x: number): number => f32BitsToF16Bits(float32Bits(x));
const toBf16 = (x: number): number => f32BitsToBf16Bits(float32Bits(x));

describe('float16', () => {
  it('encodes landmark values', () => {
    expect(toF16(1)).toBe(0x3c00);
    expect(toF16(-2)).toBe(0xc000);
    expect(toF16(0.1)).toBe(0x2e66);
    expect(toF16(65504)).toBe(0x7bff);
    expect(toF16(65519.99)).toBe(0x7bff);
    expect(toF16(65520)).toBe(0x7c00); // the tie with "65536" goes to the even pattern: infinity
    expect(toF16(-1e6)).toBe(0xfc00);
    expect(toF16(2 ** -14)).toBe(0x0400); // smallest normal
    expect(toF16(2 ** -24)).toBe(0x0001); // smallest subnormal
    expect(toF16(2 ** -25)).toBe(0x0000); // tie between 0 and 2^-24: even is 0
    expect(toF16(float32FromBits(float32Bits(2 ** -25) + 1))).toBe(0x0001);
    expect(toF16(3 * 2 ** -25)).toBe(0x0002); // tie between 1 and 2 units: even is 2
    expect(toF16(-0)).toBe(0x8000);
    expect(toF16(Infinity)).toBe(0x7c00);
    expect(toF16(NaN) & 0x7e00).toBe(0x7e00);
  });

  it('decodes landmark values', () => {
    expect(f16BitsToFloat(0x3c00)).toBe(1);
    expect(f16BitsToFloat(0x7bff)).toBe(65504);
    expect(f16BitsToFloat(0x0001)).toBe(2 ** -24);
    expect(Object.is(f16BitsToFloat(0x8000), -0)).toBe(true);
    expect(f16BitsToFloat(0xfc00)).toBe(-Infinity);
    expect(f16BitsToFloat(0x7e01)).toBeNaN();
  });

  it('every finite half survives decode -> encode, and every midpoint rounds to the even neighbour', () => {
    const wrong: string[] = [];
    let checked = 0;
    for (let h = 0; h < 0x7c00; h++) {
      for (const sign of [0, 0x8000]) {
        const value = f16BitsToFloat(h | sign);
        if (toF16(value) !== (h | sign)) wrong.push(`roundtrip ${h | sign}`);
        if (h < 0x7bff) {
          const mid = (value + f16BitsToFloat((h + 1) | sign)) / 2; // exact in float32
          const even = h % 2 === 0 ? h : h + 1;
          if (toF16(mid) !== (even | sign)) wrong.push(`midpoint after ${h | sign}`);
          checked++;
        }
      }
    }
    expect(wrong).toEqual([]);
    expect(checked).toBe(2 * 0x7bff);
  });
});

describe('bfloat16', () => {
  it('encodes landmark values', () => {
    expect(toBf16(1)).toBe(0x3f80);
    expect(toBf16(-0)).toBe(0x8000);
    expect(toBf16(Math.PI)).toBe(0x4049);
    expect(toBf16(-Infinity)).toBe(0xff80);
    expect(toBf16(3.4e38)).toBe(0x7f80); // above the largest bfloat16 (3.39e38): rounds to infinity
    expect(toBf16(NaN) & 0x7fc0).toBe(0x7fc0);
  });

  it('every bit pattern survives, and ties go to even', () => {
    const wrong: string[] = [];
    for (let b = 0; b < 0x10000; b++) {
      const bits = b << 16;
      if ((bits & 0x7fffffff) > 0x7f800000) continue; // NaNs: only quietness is kept
      if (f32BitsToBf16Bits(bits >>> 0) !== b) wrong.push(`roundtrip ${b}`);
      if ((b & 0x7fff) < 0x7f80) {
        const tie = (bits | 0x8000) >>> 0;
        const even = b % 2 === 0 ? b : b + 1;
        if (f32BitsToBf16Bits(tie) !== even) wrong.push(`tie after ${b}`);
        if (f32BitsToBf16Bits((tie - 1) >>> 0) !== b) wrong.push(`below tie after ${b}`);
      }
    }
    expect(wrong).toEqual([]);
  });
});
