import { MigeInputError } from '../errors.js';
import { BICUBIC, BILINEAR, PRECISION_BITS, precomputeCoefficients, type AxisCoefficients } from './resample-coeffs.js';
import { assertImageSize, assertRgbImage, cloneRgbImage } from './rgb-image.js';
import type { ResampleFilter, RgbImage } from './types.js';

// A module-local copy: a hot loop reading an imported binding pays a property load per use in
// CommonJS/vitest transpilations (measured 3x slower).
const SHIFT: number = PRECISION_BITS;
const HALF = 1 << (SHIFT - 1);

function clip8(accumulator: number): number {
  // Arithmetic shift = floor division, as Pillow's clip8 lookup of (in >> PRECISION_BITS).
  const v = accumulator >> SHIFT;
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

/** Horizontal pass over rows [firstRow, firstRow + rows) of `src`; RGB, rounded to uint8. */
function resampleRows(
  src: Uint8Array,
  srcWidth: number,
  firstRow: number,
  rows: number,
  c: AxisCoefficients,
): Uint8Array {
  const { ksize, first, count, weights } = c;
  const outWidth = first.length;
  const out = new Uint8Array(outWidth * rows * 3);
  let o = 0;
  for (let y = 0; y < rows; y++) {
    const rowStart = (firstRow + y) * srcWidth * 3;
    for (let xx = 0; xx < outWidth; xx++) {
      const taps = count[xx]!;
      const k0 = xx * ksize;
      let p = rowStart + first[xx]! * 3;
      let r = HALF;
      let g = HALF;
      let b = HALF;
      for (let t = 0; t < taps; t++, p += 3) {
        const w = weights[k0 + t]!;
        r += src[p]! * w;
        g += src[p + 1]! * w;
        b += src[p + 2]! * w;
      }
      out[o++] = clip8(r);
      out[o++] = clip8(g);
      out[o++] = clip8(b);
    }
  }
  return out;
}

/** Vertical pass; `src` row 0 is input row `rowOffset` of the coefficients. */
function resampleColumns(src: Uint8Array, width: number, rowOffset: number, c: AxisCoefficients): Uint8Array {
  const { ksize, first, count, weights } = c;
  const outHeight = first.length;
  const rowLength = width * 3;
  const out = new Uint8Array(rowLength * outHeight);
  // Row accumulator: sequential reads of source rows (two per sweep) instead of strided column
  // walks. Partial sums stay within int32, as in Pillow's INT32 accumulators.
  const acc = new Int32Array(rowLength);
  for (let yy = 0; yy < outHeight; yy++) {
    acc.fill(HALF);
    const taps = count[yy]!;
    const k0 = yy * ksize;
    const base = (first[yy]! - rowOffset) * rowLength;
    let t = 0;
    for (; t + 1 < taps; t += 2) {
      const w0 = weights[k0 + t]!;
      const w1 = weights[k0 + t + 1]!;
      const r0 = base + t * rowLength;
      const r1 = r0 + rowLength;
      for (let i = 0; i < rowLength; i++) acc[i] = acc[i]! + src[r0 + i]! * w0 + src[r1 + i]! * w1;
    }
    if (t < taps) {
      const w = weights[k0 + t]!;
      const r = base + t * rowLength;
      for (let i = 0; i < rowLength; i++) acc[i] = acc[i]! + src[r + i]! * w;
    }
    const o = yy * rowLength;
    for (let i = 0; i < rowLength; i++) out[o + i] = clip8(acc[i]!);
  }
  return out;
}

/**
 * Pillow's nearest-neighbour resize (an affine scale, Geometry.c ImagingScaleAffine): source
 * positions start at scale/2 and advance by accumulated double additions, truncated.
 */
function nearestIndices(inSize: number, outSize: number): Int32Array {
  const scale = inSize / outSize;
  const index = new Int32Array(outSize);
  let pos = scale * 0.5;
  for (let i = 0; i < outSize; i++) {
    const v = pos < 0 ? -1 : Math.trunc(pos);
    index[i] = v < inSize ? v : -1;
    pos += scale;
  }
  return index;
}

function resizeNearest(img: RgbImage, width: number, height: number): RgbImage {
  const xs = nearestIndices(img.width, width);
  const ys = nearestIndices(img.height, height);
  const out = new Uint8Array(width * height * 3);
  let o = 0;
  for (let y = 0; y < height; y++) {
    const sy = ys[y]!;
    for (let x = 0; x < width; x++, o += 3) {
      const sx = xs[x]!;
      if (sy < 0 || sx < 0) continue; // outside the source: Pillow leaves the fill (black)
      const p = (sy * img.width + sx) * 3;
      out[o] = img.data[p]!;
      out[o + 1] = img.data[p + 1]!;
      out[o + 2] = img.data[p + 2]!;
    }
  }
  return { width, height, data: out };
}

/**
 * Resizes like PIL's `Image.resize((width, height), filter)` on an RGB image, bit for bit:
 * bilinear and bicubic (a = -0.5) are separable convolutions with the filter widened by the
 * downscale factor (antialiasing), fixed-point weights, the horizontal pass first, and rounding
 * plus clipping to uint8 after each pass. PIL's default filter for RGB is bicubic.
 */
export function resize(img: RgbImage, width: number, height: number, filter: ResampleFilter = 'bicubic'): RgbImage {
  assertRgbImage(img, 'resize');
  assertImageSize(width, height, 'resize');
  const kernel = filter === 'bilinear' ? BILINEAR : filter === 'bicubic' ? BICUBIC : undefined;
  if (!kernel && filter !== 'nearest') {
    throw new MigeInputError(`unknown filter '${String(filter)}' (nearest, bilinear, bicubic)`, 'resize');
  }
  if (width === img.width && height === img.height) return cloneRgbImage(img);
  if (!kernel) return resizeNearest(img, width, height);

  const vertical = precomputeCoefficients(img.height, height, kernel);
  let data = img.data;
  let rowOffset = 0;
  if (width !== img.width) {
    // Only the input rows the vertical pass reads are resampled horizontally.
    const firstRow = vertical.first[0]!;
    const lastRow = vertical.first[height - 1]! + vertical.count[height - 1]!;
    const horizontal = precomputeCoefficients(img.width, width, kernel);
    data = resampleRows(img.data, img.width, firstRow, lastRow - firstRow, horizontal);
    rowOffset = firstRow;
  }
  if (height !== img.height) data = resampleColumns(data, width, rowOffset, vertical);
  return { width, height, data };
}
