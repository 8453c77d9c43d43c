import type { Metadata } from 'sharp';
import { loadSharp, type Sharp } from '../optional/sharp.js';
import { MigeInputError } from '../errors.js';
import { checkDimensions, resolveLimits, type ImageLimits } from './limits.js';
import { channelsToRgb, cmykToRgb, grey16ToRgb } from './pil-convert.js';
import { readBoundedFile } from './read-file.js';
import { sniffImageFormat } from './format-sniff.js';
import type { ImageFormat, RgbImage, RgbTriple } from './types.js';

export interface DecodeOptions extends ImageLimits {
  /** Names the input in error messages; defaults to the path, or 'buffer'. */
  label?: string;
  /**
   * Composite (8-bit) alpha over this colour, [r, g, b] in 0..255, instead of dropping it as PIL
   * does: out = (rgb·α + background·(255 − α)) / 255, rounded. Default: dropped.
   */
  background?: RgbTriple;
}

/** A decoded image and what decoding it did. */
export interface DecodedImage {
  image: RgbImage;
  format: ImageFormat;
  /** Pixels whose alpha was below 255 (0 without an alpha channel). */
  transparentPixels: number;
  /** Whether those pixels were composited over `background` (else their alpha was dropped). */
  composited: boolean;
}

const FORMAT_NAMES: Record<ImageFormat, string> = { png: 'PNG', jpeg: 'JPEG', webp: 'WebP' };

function sharpMessage(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).replace(/\s+/g, ' ').trim();
}

/**
 * Decodes a PNG, JPEG or WebP file (path) or encoded bytes into 8-bit RGB, matching PIL's
 * `Image.open(p).convert('RGB')`:
 * - alpha is dropped, not composited (unless `opts.background` is given); grey and palette images are expanded to RGB;
 * - 16-bit RGB(A) keeps the high byte; 16-bit grey is clipped at 255 (PIL's I→RGB rule);
 * - CMYK JPEGs use PIL's naive CMYK→RGB formula; embedded ICC profiles are ignored, as PIL does;
 * - EXIF orientation is NOT applied (PIL's open/convert does not rotate either);
 * - animated WebP: the first frame.
 * The header is checked against `limits` before any pixel is decoded; corrupt or truncated data,
 * empty input and formats other than PNG/JPEG/WebP (SVG, GIF, ...) throw MigeInputError.
 */
export async function decodeImage(input: string | Uint8Array, opts: DecodeOptions = {}): Promise<RgbImage> {
  return (await decodeImageDetailed(input, opts)).image;
}

/** decodeImage, also saying the format and how many pixels were transparent (and whether they were composited). */
export async function decodeImageDetailed(input: string | Uint8Array, opts: DecodeOptions = {}): Promise<DecodedImage> {
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
  const background = opts.background;
  if (background !== undefined && (background.length !== 3 || background.some((v) => !Number.isInteger(v) || v < 0 || v > 255))) {
    throw new MigeInputError(`background must be [r, g, b] with integers in 0..255, got ${JSON.stringify(background)}`, where);
  }

  try {
    const decoded = await decodePixels(sharp, buffer, meta, limits.maxPixels, background);
    const pixels = decoded.image;
    if (pixels.width !== meta.width || pixels.height !== meta.height) {
      throw new Error(`decoded ${pixels.width}x${pixels.height}, header says ${meta.width}x${meta.height}`);
    }
    return { ...decoded, format };
  } catch (err) {
    throw new MigeInputError(`cannot decode ${name} (corrupt or truncated data): ${sharpMessage(err)}`, where);
  }
}

type Pixels = Omit<DecodedImage, 'format'>;

async function decodePixels(sharp: Sharp, buffer: Buffer, meta: Metadata, maxPixels: number, background: RgbTriple | undefined): Promise<Pixels> {
  // failOn 'error' rejects truncated files and decoder errors but, like PIL, tolerates warnings.
  const source = () => sharp(buffer, { failOn: 'error', limitInputPixels: maxPixels, ignoreIcc: true });
  if (meta.space === 'cmyk') {
    const { data, info } = await source()
      .pipelineColourspace('cmyk')
      .toColourspace('cmyk')
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 4) throw new Error(`CMYK decode gave ${info.channels} channels`);
    return opaque({ width: info.width, height: info.height, data: cmykToRgb(data, info.width * info.height) });
  }
  if (meta.space === 'grey16') {
    const { data, info } = await source()
      .toColourspace('grey16')
      .raw({ depth: 'ushort' })
      .toBuffer({ resolveWithObject: true });
    // Native-endian samples; copy first if the buffer is not 2-byte aligned.
    const aligned = data.byteOffset % 2 === 0 ? data : Buffer.from(data);
    const samples = new Uint16Array(aligned.buffer, aligned.byteOffset, aligned.byteLength / 2);
    // 16-bit grey keeps PIL's rule (alpha dropped) even with a background.
    return opaque({ width: info.width, height: info.height, data: grey16ToRgb(samples, info.width * info.height, info.channels) });
  }
  const { data, info } = await source().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  if (info.channels < 1 || info.channels > 4) throw new Error(`decode gave ${info.channels} channels`);
  const pixels = info.width * info.height;
  const image = { width: info.width, height: info.height, data: channelsToRgb(data, pixels, info.channels) };
  const hasAlpha = info.channels === 2 || info.channels === 4;
  const transparentPixels = hasAlpha ? countTransparent(data, pixels, info.channels) : 0;
  if (background && transparentPixels > 0) compositeOver(image.data, data, pixels, info.channels, background);
  return { image, transparentPixels, composited: background !== undefined && transparentPixels > 0 };
}

function opaque(image: RgbImage): Pixels {
  return { image, transparentPixels: 0, composited: false };
}

function countTransparent(src: Uint8Array, pixels: number, channels: number): number {
  let n = 0;
  for (let i = 0, a = channels - 1; i < pixels; i++, a += channels) if ((src[a] as number) < 255) n++;
  return n;
}

/** rgb (already converted from `src`) ← (rgb·α + bg·(255 − α)) / 255, rounded half up. */
function compositeOver(rgb: Uint8Array, src: Uint8Array, pixels: number, channels: number, bg: RgbTriple): void {
  for (let i = 0, a = channels - 1, o = 0; i < pixels; i++, a += channels, o += 3) {
    const alpha = src[a] as number;
    if (alpha === 255) continue;
    for (let c = 0; c < 3; c++) rgb[o + c] = Math.floor(((rgb[o + c] as number) * alpha + (bg[c] as number) * (255 - alpha) + 127) / 255);
  }
}
