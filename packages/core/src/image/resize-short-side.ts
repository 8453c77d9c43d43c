import { MigeInputError } from '../errors.js';
import { resize } from './resize.js';
import { assertRgbImage } from './rgb-image.js';
import type { ResampleFilter, RgbImage } from './types.js';

/**
 * Output size of torchvision's `Resize(size)` (an int: the short side), from
 * `_compute_resized_output_size`: the long side is int(size * long / short), truncated; with
 * `maxSize`, a long side over it is capped and the short side becomes int(maxSize * short / long).
 */
export function shortSideOutputSize(
  width: number,
  height: number,
  size: number,
  maxSize?: number,
): { width: number; height: number } {
  if (!Number.isInteger(size) || size < 1) {
    throw new MigeInputError(`size must be a positive integer, got ${size}`, 'resizeShortSide');
  }
  const portrait = width <= height;
  const [short, long] = portrait ? [width, height] : [height, width];
  let newShort = size;
  let newLong = Math.trunc((size * long) / short);
  if (maxSize !== undefined) {
    if (!Number.isInteger(maxSize) || maxSize <= size) {
      throw new MigeInputError(`maxSize must be an integer greater than size=${size}, got ${maxSize}`, 'resizeShortSide');
    }
    if (newLong > maxSize) {
      newShort = Math.trunc((maxSize * newShort) / newLong);
      newLong = maxSize;
    }
  }
  return portrait ? { width: newShort, height: newLong } : { width: newLong, height: newShort };
}

/**
 * torchvision's `Resize(size, interpolation)` on a PIL image: the short side becomes `size`,
 * then PIL's resize. torchvision's default interpolation is bilinear.
 */
export function resizeShortSide(
  img: RgbImage,
  size: number,
  filter: ResampleFilter = 'bilinear',
  maxSize?: number,
): RgbImage {
  assertRgbImage(img, 'resizeShortSide');
  const out = shortSideOutputSize(img.width, img.height, size, maxSize);
  return resize(img, out.width, out.height, filter);
}
