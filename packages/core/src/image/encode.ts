import { randomBytes } from 'node:crypto';
import { rename, unlink, writeFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { loadSharp } from '../optional/sharp.js';
import { MigeInputError } from '../errors.js';
import { assertRgbImage } from './rgb-image.js';
import type { ImageFormat, RgbImage } from './types.js';

export interface EncodeOptions {
  /** JPEG / lossy WebP quality, 1..100. Default 90. */
  quality?: number;
  /** WebP only: lossless encoding (decodes back bit-exactly). Default false. */
  lossless?: boolean;
  /** PNG only: zlib level 0..9. Default 6. */
  compressionLevel?: number;
}

const EXTENSIONS: Record<string, ImageFormat> = { '.png': 'png', '.jpg': 'jpeg', '.jpeg': 'jpeg', '.webp': 'webp' };

function checkRange(value: number | undefined, name: string, min: number, max: number): void {
  if (value !== undefined && (!Number.isInteger(value) || value < min || value > max)) {
    throw new MigeInputError(`${name} must be an integer in ${min}..${max}, got ${value}`, 'encodeImage');
  }
}

/** Encodes an RGB image; metadata is not written. PNG and lossless WebP are exact. */
export async function encodeImage(img: RgbImage, format: ImageFormat, opts: EncodeOptions = {}): Promise<Buffer> {
  assertRgbImage(img, 'encodeImage');
  checkRange(opts.quality, 'quality', 1, 100);
  checkRange(opts.compressionLevel, 'compressionLevel', 0, 9);
  const sharp = await loadSharp();
  const pipeline = sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } });
  switch (format) {
    case 'png':
      return pipeline.png({ compressionLevel: opts.compressionLevel ?? 6 }).toBuffer();
    case 'jpeg':
      return pipeline.jpeg({ quality: opts.quality ?? 90 }).toBuffer();
    case 'webp':
      return pipeline.webp({ quality: opts.quality ?? 90, lossless: opts.lossless ?? false }).toBuffer();
    default:
      throw new MigeInputError(`unsupported output format '${String(format)}' (png, jpeg, webp)`, 'encodeImage');
  }
}

/** The output format for a file name: .png, .jpg/.jpeg or .webp (any case). */
export function formatFromPath(path: string): ImageFormat {
  const format = EXTENSIONS[extname(path).toLowerCase()];
  if (!format) {
    throw new MigeInputError(`cannot tell the image format from the extension (use .png, .jpg, .jpeg or .webp)`, path);
  }
  return format;
}

/**
 * Encodes by extension and writes atomically: a temporary file in the same folder, then a
 * rename, so readers never see a half-written image.
 */
export async function writeImage(path: string, img: RgbImage, opts: EncodeOptions = {}): Promise<void> {
  const encoded = await encodeImage(img, formatFromPath(path), opts);
  const temp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFile(temp, encoded, { flag: 'wx' });
    await rename(temp, path);
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    const message = err instanceof Error ? err.message : String(err);
    throw new MigeInputError(`cannot write image: ${message}`, path);
  }
}
