/**
 * Resampling weights exactly as Pillow computes them (libImaging/Resample.c, precompute_coeffs
 * and normalize_coeffs_8bpc): the filter is stretched by the downscale factor (antialiasing),
 * each output sample's weights are normalised to sum 1, then turned into fixed point with
 * PRECISION_BITS fraction bits, rounded half away from zero.
 */

/** 32 bits minus 8 for the result minus 2 for the overshoot of negative filter lobes. */
export const PRECISION_BITS = 32 - 8 - 2;

export interface ConvolutionFilter {
  /** Half-width of the filter at scale 1, in input pixels. */
  support: number;
  weight(x: number): number;
}

export const BILINEAR: ConvolutionFilter = {
  support: 1,
  weight(x) {
    const t = Math.abs(x);
    return t < 1 ? 1 - t : 0;
  },
};

/** Keys' cubic convolution with a = -0.5 (Pillow's bicubic_filter). */
export const BICUBIC: ConvolutionFilter = {
  support: 2,
  weight(x) {
    const a = -0.5;
    const t = Math.abs(x);
    if (t < 1) return ((a + 2) * t - (a + 3)) * t * t + 1;
    if (t < 2) return (((t - 5) * t + 8) * t - 4) * a;
    return 0;
  },
};

/** The fixed-point weights of one axis. */
export interface AxisCoefficients {
  /** Maximum taps per output sample: the row stride of `weights`. */
  ksize: number;
  /** [outSize]: first input index read by each output sample. */
  first: Int32Array;
  /** [outSize]: number of input samples read (at most ksize). */
  count: Int32Array;
  /** [outSize, ksize]: weights scaled by 2^PRECISION_BITS; unused taps are 0. */
  weights: Int32Array;
}

export function precomputeCoefficients(inSize: number, outSize: number, filter: ConvolutionFilter): AxisCoefficients {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = filter.support * filterScale;
  const ksize = Math.ceil(support) * 2 + 1;
  const invFilterScale = 1 / filterScale;
  const first = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Int32Array(outSize * ksize);
  const k = new Float64Array(ksize);
  const one = 2 ** PRECISION_BITS;

  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    // C's (int) cast truncates toward zero; the same expressions, in the same order, as Pillow.
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    const xmax = Math.min(Math.trunc(center + support + 0.5), inSize) - xmin;
    let sum = 0;
    for (let x = 0; x < xmax; x++) {
      const w = filter.weight((x + xmin - center + 0.5) * invFilterScale);
      k[x] = w;
      sum += w;
    }
    for (let x = 0; x < xmax; x++) {
      const w = sum !== 0 ? k[x]! / sum : k[x]!;
      weights[xx * ksize + x] = w < 0 ? Math.trunc(-0.5 + w * one) : Math.trunc(0.5 + w * one);
    }
    first[xx] = xmin;
    count[xx] = xmax;
  }
  return { ksize, first, count, weights };
}
