import { MigeInputError } from '../errors.js';
import { assertImageSize, assertRgbImage } from './rgb-image.js';
import type { RgbImage } from './types.js';

/** Python's round(): halves go to the even neighbour (round(2.5) = 2, round(3.5) = 4). */
export function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const diff = x - floor;
  if (diff < 0.5) return floor;
  if (diff > 0.5) return floor + 1;
  return floor % 2 === 0 ? floor : floor + 1;
}

/** Copies the width x height window at (left, top); the window must lie inside the image. */
export function crop(img: RgbImage, left: number, top: number, width: number, height: number): RgbImage {
  assertRgbImage(img, 'crop');
  assertImageSize(width, height, 'crop');
  if (!Number.isInteger(left) || !Number.isInteger(top) || left < 0 || top < 0
    || left + width > img.width || top + height > img.height) {
    throw new MigeInputError(
      `crop ${width}x${height} at (${left}, ${top}) is outside the ${img.width}x${img.height} image`,
      'crop',
    );
  }
  const out = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const from = ((top + y) * img.width + left) * 3;
    out.set(img.data.subarray(from, from + width * 3), y * width * 3);
  }
  return { width, height, data: out };
}

/** Adds black borders (torchvision's pad with fill=0). */
export function padImage(img: RgbImage, left: number, top: number, right: number, bottom: number): RgbImage {
  assertRgbImage(img, 'padImage');
  for (const [name, v] of [['left', left], ['top', top], ['right', right], ['bottom', bottom]] as const) {
    if (!Number.isInteger(v) || v < 0) throw new MigeInputError(`${name} padding must be a non-negative integer, got ${v}`, 'padImage');
  }
  const width = img.width + left + right;
  const height = img.height + top + bottom;
  assertImageSize(width, height, 'padImage');
  const out = new Uint8Array(width * height * 3);
  const rowBytes = img.width * 3;
  for (let y = 0; y < img.height; y++) {
    out.set(img.data.subarray(y * rowBytes, (y + 1) * rowBytes), ((top + y) * width + left) * 3);
  }
  return { width, height, data: out };
}

/**
 * torchvision's `CenterCrop((height, width))` on a PIL image: if the crop is larger than the
 * image along an edge, that edge is first padded with black ((d // 2) before, ((d + 1) // 2)
 * after); the offset is int(round((H - h) / 2)) with Python's half-to-even round.
 */
export function centerCrop(img: RgbImage, width: number, height: number): RgbImage {
  assertRgbImage(img, 'centerCrop');
  assertImageSize(width, height, 'centerCrop');
  let source = img;
  if (width > img.width || height > img.height) {
    const dw = Math.max(width - img.width, 0);
    const dh = Math.max(height - img.height, 0);
    source = padImage(img, Math.floor(dw / 2), Math.floor(dh / 2), Math.floor((dw + 1) / 2), Math.floor((dh + 1) / 2));
    if (source.width === width && source.height === height) return source;
  }
  const top = roundHalfEven((source.height - height) / 2);
  const left = roundHalfEven((source.width - width) / 2);
  return crop(source, left, top, width, height);
}
