import type { Metadata } from 'sharp';
import { loadSharp, type Sharp } from '../optional/sharp.js';
import { MigeInputError } from '../errors.js';
import { checkDimensions, resolveLimits, type ImageLimits } from './limits.js';
import { channelsToRgb, cmykToRgb, grey16ToRgb } from './pil-convert.js';
import { readBoundedFile } from './read-file.js';
import { sniffImageFormat } from './format-sniff.js';
import type { ImageFormat, RgbImage } from './types.js';

export interface DecodeOptions extends ImageLimits {
  /** Names the input in error messages; defaults to the path, or 'buffer'. */
  label?: string;
}

const FORMAT_NAMES: Record<ImageFormat, string> = { png: 'PNG', jpeg: 'JPEG', webp: 'WebP' };

function sharpMessage(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).replace(/\s+/g, ' ').trim();
}

/**
 * Decodes a PNG, JPEG or WebP file (path) or encoded bytes into 8-bit RGB, matching PIL's
 * `Image.open(p).convert('RGB')`:
 * - alpha is dropped, not composited; grey and palette images are expanded to RGB;
 * - 16-bit RGB(A) keeps the high byte; 16-bit grey is clipped at 255 (PIL's I→RGB rule);
 * - CMYK JPEGs use PIL's naive CMYK→RGB formula; embedded ICC profiles are ignored, as PIL does;
 * - EXIF orientation is NOT applied (PIL's open/convert does not rotate either);
 * - animated WebP: the first frame.
 * The header is checked against `limits` before any pixel is decoded; corrupt or truncated data,
 * empty input and formats other than PNG/JPEG/WebP (SVG, GIF, ...) throw MigeInputError.
 */
export async function decodeImage(input: string | Uint8Array, opts: DecodeOptions = {}): Promise<RgbImage> {
  const where = opts.label ?? (typeof input === 'string' ? input : 'buffer');
  const limits = resolveLimits(opts, where);
  const bytes = typeof input === 'string' ? await readBoundedFile(input, limits.maxBytes, where) : input;
  if (!(bytes instanceof Uint8Array)) {
    throw new MigeInputError('input must be a file path or a Uint8Array of encoded image bytes', where);
  }
  if (bytes.length === 0) throw new MigeInputError('empty input (0 bytes)', where);
  if (bytes.length > limits.maxBytes) {
    throw new MigeInputError(`input is ${bytes.length} bytes, over the limit maxBytes=${limits.maxBytes}`, where);
  }
  const format = sniffImageFormat(bytes, where);
  const name = FORMAT_NAMES[format];
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

  const sharp = await loadSharp();
  let meta: Metadata;
  try {
    // Header only; the pixel limit is ours to report, so sharp's own is off here.
    meta = await sharp(buffer, { limitInputPixels: false }).metadata();
  } catch (err) {
    throw new MigeInputError(`corrupt ${name} header: ${sharpMessage(err)}`, where);
  }
  if (meta.format !== format || !meta.width || !meta.height) {
    throw new MigeInputError(`corrupt ${name} header (decoder reports format ${String(meta.format)})`, where);
  }
  checkDimensions(meta.width, meta.height, limits, where);

  try {
    const pixels = await decodePixels(sharp, buffer, meta, limits.maxPixels);
    if (pixels.width !== meta.width || pixels.height !== meta.height) {
      throw new Error(`decoded ${pixels.width}x${pixels.height}, header says ${meta.width}x${meta.height}`);
    }
    return pixels;
  } catch (err) {
    throw new MigeInputError(`cannot decode ${name} (corrupt or truncated data): ${sharpMessage(err)}`, where);
  }
}

async function decodePixels(sharp: Sharp, buffer: Buffer, meta: Metadata, maxPixels: number): Promise<RgbImage> {
  // failOn 'error' rejects truncated files and decoder errors but, like PIL, tolerates warnings.
  const source = () => sharp(buffer, { failOn: 'error', limitInputPixels: maxPixels, ignoreIcc: true });
  if (meta.space === 'cmyk') {
    const { data, info } = await source()
      .pipelineColourspace('cmyk')
      .toColourspace('cmyk')
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 4) throw new Error(`CMYK decode gave ${info.channels} channels`);
    return { width: info.width, height: info.height, data: cmykToRgb(data, info.width * info.height) };
  }
  if (meta.space === 'grey16') {
    const { data, info } = await source()
      .toColourspace('grey16')
      .raw({ depth: 'ushort' })
      .toBuffer({ resolveWithObject: true });
    // Native-endian samples; copy first if the buffer is not 2-byte aligned.
    const aligned = data.byteOffset % 2 === 0 ? data : Buffer.from(data);
    const samples = new Uint16Array(aligned.buffer, aligned.byteOffset, aligned.byteLength / 2);
    return {
      width: info.width,
      height: info.height,
      data: grey16ToRgb(samples, info.width * info.height, info.channels),
    };
  }
  const { data, info } = await source().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  if (info.channels < 1 || info.channels > 4) throw new Error(`decode gave ${info.channels} channels`);
  return { width: info.width, height: info.height, data: channelsToRgb(data, info.width * info.height, info.channels) };
}
