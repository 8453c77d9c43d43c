import { MigeInputError } from '../errors.js';
import type { ImageFormat } from './types.js';

const SUPPORTED = 'supported: PNG, JPEG, WebP';

function startsWith(bytes: Uint8Array, signature: readonly number[], at = 0): boolean {
  return signature.every((b, i) => bytes[at + i] === b);
}

function ascii(bytes: Uint8Array, from: number, to: number): string {
  return String.fromCharCode(...bytes.subarray(from, to));
}

/** Formats that are recognised only to be refused with a precise message. */
function refusedFormat(bytes: Uint8Array): string | undefined {
  if (ascii(bytes, 0, 6) === 'GIF87a' || ascii(bytes, 0, 6) === 'GIF89a') return 'GIF';
  if (ascii(bytes, 0, 2) === 'BM') return 'BMP';
  if (startsWith(bytes, [0x49, 0x49, 0x2a, 0x00]) || startsWith(bytes, [0x4d, 0x4d, 0x00, 0x2a])) return 'TIFF';
  if (ascii(bytes, 4, 8) === 'ftyp') return 'HEIF/AVIF';
  if (ascii(bytes, 0, 5) === '%PDF-') return 'PDF';
  if (startsWith(bytes, [0xff, 0x0a]) || ascii(bytes, 4, 8) === 'JXL ') return 'JPEG XL';
  // SVG and other XML: refused because an SVG can reference external files and URLs.
  const head = new TextDecoder('utf-8', { fatal: false }).decode(bytes.subarray(0, 512)).replace(/^\uFEFF/, '');
  if (/^\s*</.test(head)) return /<svg[\s>]/i.test(head) ? 'SVG' : 'XML/HTML';
  return undefined;
}

/**
 * Identifies the format from the file signature, before any decoder sees the bytes, so that
 * only the PNG, JPEG and WebP decoders are ever reached.
 */
export function sniffImageFormat(bytes: Uint8Array, where: string): ImageFormat {
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'png';
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return 'jpeg';
  if (ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 12) === 'WEBP') return 'webp';
  const refused = refusedFormat(bytes);
  if (refused) throw new MigeInputError(`${refused} images are not supported (${SUPPORTED})`, where);
  const hex = Array.from(bytes.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join(' ');
  throw new MigeInputError(`unrecognised image format, first bytes ${hex} (${SUPPORTED})`, where);
}
