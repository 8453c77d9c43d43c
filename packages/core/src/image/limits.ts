import { MigeInputError } from '../errors.js';

/** Guards against oversized files and decompression bombs; checked before any pixel is decoded. */
export interface ImageLimits {
  /** Largest encoded input accepted, in bytes. Default 64 MiB. */
  maxBytes?: number;
  /** Largest width * height accepted. Default 40 megapixels. */
  maxPixels?: number;
  /** Largest width accepted. Default 16384. */
  maxWidth?: number;
  /** Largest height accepted. Default 16384. */
  maxHeight?: number;
}

export const DEFAULT_IMAGE_LIMITS: Readonly<Required<ImageLimits>> = Object.freeze({
  maxBytes: 64 * 1024 * 1024,
  maxPixels: 40_000_000,
  maxWidth: 16384,
  maxHeight: 16384,
});

/** Fills in defaults and rejects limits that are not positive integers. */
export function resolveLimits(limits: ImageLimits, where: string): Required<ImageLimits> {
  const resolved = { ...DEFAULT_IMAGE_LIMITS };
  for (const key of Object.keys(DEFAULT_IMAGE_LIMITS) as (keyof ImageLimits)[]) {
    const value = limits[key];
    if (value === undefined) continue;
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new MigeInputError(`limit ${key} must be a positive integer, got ${String(value)}`, where);
    }
    resolved[key] = value;
  }
  return resolved;
}

/** Rejects an image whose header declares a size over the limits. */
export function checkDimensions(
  width: number,
  height: number,
  limits: Required<ImageLimits>,
  where: string,
): void {
  if (width > limits.maxWidth) {
    throw new MigeInputError(`image width ${width} exceeds the limit maxWidth=${limits.maxWidth}`, where);
  }
  if (height > limits.maxHeight) {
    throw new MigeInputError(`image height ${height} exceeds the limit maxHeight=${limits.maxHeight}`, where);
  }
  if (width * height > limits.maxPixels) {
    throw new MigeInputError(
      `image is ${width}x${height} = ${width * height} pixels, over the limit maxPixels=${limits.maxPixels}`,
      where,
    );
  }
}
