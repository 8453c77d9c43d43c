import { MigeInputError } from '../errors.js';
import type { RgbImage } from './types.js';

/** Typed arrays above this many bytes are not portable across JS engines. */
const MAX_IMAGE_BYTES = 2 ** 31 - 1;

/** Throws unless width and height are positive integers whose RGB buffer can be allocated. */
export function assertImageSize(width: number, height: number, where: string): void {
  if (!Number.isInteger(width) || width < 1 || !Number.isInteger(height) || height < 1) {
    throw new MigeInputError(`image size must be positive integers, got ${width}x${height}`, where);
  }
  if (width * height * 3 > MAX_IMAGE_BYTES) {
    throw new MigeInputError(`image size ${width}x${height} is too large to hold in memory`, where);
  }
}

/** Throws unless `img` is a well-formed RgbImage (sizes, data type and length agree). */
export function assertRgbImage(img: RgbImage, where: string): void {
  assertImageSize(img.width, img.height, where);
  if (!(img.data instanceof Uint8Array)) {
    throw new MigeInputError('image data must be a Uint8Array (HWC RGB)', where);
  }
  const expected = img.width * img.height * 3;
  if (img.data.length !== expected) {
    throw new MigeInputError(
      `image data has ${img.data.length} bytes, expected ${expected} for ${img.width}x${img.height} RGB`,
      where,
    );
  }
}

/** A new black image (or one that owns `data`). */
export function createRgbImage(width: number, height: number, data?: Uint8Array): RgbImage {
  const img = { width, height, data: data ?? new Uint8Array(width * height * 3) };
  assertRgbImage(img, 'createRgbImage');
  return img;
}

export function cloneRgbImage(img: RgbImage): RgbImage {
  return { width: img.width, height: img.height, data: img.data.slice() };
}
