/**
 * float32 <-> float16 / bfloat16 conversions on bit patterns. Encoding rounds to nearest, ties
 * to even (what torch and numpy do); NaN stays a quiet NaN with its sign.
 */

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The raw bits of `value` rounded to float32. */
export function float32Bits(value: number): number {
  f32[0] = value;
  return u32[0] as number;
}

export function float32FromBits(bits: number): number {
  u32[0] = bits;
  return f32[0] as number;
}

/** float32 bits -> float16 bits, round to nearest even. */
export function f32BitsToF16Bits(bits: number): number {
  const sign = (bits >>> 16) & 0x8000;
  const abs = bits & 0x7fffffff;
  if (abs > 0x7f800000) return sign | 0x7e00; // NaN
  // >= 65520 rounds up past the largest half (65504): infinity, as does infinity itself.
  if (abs >= 0x477ff000) return sign | 0x7c00;
  if (abs >= 0x38800000) {
    // Normal half: rebias the exponent (127 -> 15) and round the 13 dropped mantissa bits.
    const odd = (abs >>> 13) & 1;
    return sign | ((abs - 0x38000000 + 0xfff + odd) >>> 13);
  }
  // Subnormal half (|x| < 2^-14): the result counts units of 2^-24.
  const exponent = abs >>> 23;
  if (exponent < 102) return sign; // below 2^-25: rounds to (signed) zero
  const mantissa = (abs & 0x7fffff) | 0x800000;
  const shift = 126 - exponent;
  let half = mantissa >>> shift;
  const rest = mantissa & ((1 << shift) - 1);
  const tie = 1 << (shift - 1);
  if (rest > tie || (rest === tie && (half & 1) === 1)) half += 1;
  return sign | half;
}

/** float16 bits -> float32 value. */
export function f16BitsToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >>> 10) & 0x1f;
  const mantissa = h & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 31) return mantissa === 0 ? sign * Infinity : NaN;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

let f16Table: Float32Array | undefined;

/** All 65536 half values, built on first use: decoding is then one lookup per element. */
export function f16DecodeTable(): Float32Array {
  if (!f16Table) {
    f16Table = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) f16Table[h] = f16BitsToFloat(h);
  }
  return f16Table;
}

/** float32 bits -> bfloat16 bits, round to nearest even. */
export function f32BitsToBf16Bits(bits: number): number {
  if ((bits & 0x7fffffff) > 0x7f800000) return ((bits >>> 16) & 0x8000) | 0x7fc0; // NaN
  return ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) & 0xffff;
}
