import { decodeImage, MigeInputError, sniffImageFormat, type RgbImage } from '@mige/core';
import type { RequestLimits } from './flow-request.js';

/** Bad input that is too big (an HTTP server answers 413 rather than 400). */
export class MigeRequestTooLargeError extends MigeInputError {}

const DATA_URL = /^data:image\/(png|jpeg|jpg);base64,([A-Za-z0-9+/]*={0,2})$/;

/** Decoded size of a base64 payload without decoding it. */
function base64Bytes(payload: string): number {
  const padding = payload.endsWith('==') ? 2 : payload.endsWith('=') ? 1 : 0;
  return Math.floor((payload.length * 3) / 4) - padding;
}

/**
 * PNG or JPEG bytes → RGB image, checked against the limits before any pixel is decoded (size
 * first, then the header's dimensions through core's decodeImage limits).
 */
export async function decodeImageBytes(bytes: Uint8Array, field: string, limits: RequestLimits): Promise<RgbImage> {
  if (bytes.length === 0) throw new MigeInputError(`${field} is an empty image`);
  if (bytes.length > limits.maxImageBytes) throw new MigeRequestTooLargeError(`${field} is ${bytes.length} bytes, over the limit of ${limits.maxImageBytes} bytes per image`);
  const buffer = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const format = sniffImageFormat(buffer, field);
  if (format !== 'png' && format !== 'jpeg') throw new MigeInputError(`${field} is ${format.toUpperCase()}: only PNG and JPEG are accepted`);
  return decodeImage(buffer, {
    label: field,
    maxBytes: limits.maxImageBytes,
    maxWidth: limits.maxImageSide,
    maxHeight: limits.maxImageSide,
    maxPixels: limits.maxImagePixels,
  });
}

/** A PNG or JPEG data URL → RGB image, its size checked before the base64 is decoded. */
export async function decodeDataUrl(value: unknown, field: string, limits: RequestLimits): Promise<RgbImage> {
  if (typeof value !== 'string') throw new MigeInputError(`${field} must be a PNG or JPEG data URL string`);
  const match = DATA_URL.exec(value);
  if (!match) throw new MigeInputError(`${field} must be a base64 data URL of a PNG or JPEG image (data:image/png;base64,... or data:image/jpeg;base64,...)`);
  const payload = match[2] ?? '';
  const size = base64Bytes(payload);
  if (size === 0) throw new MigeInputError(`${field} is an empty image`);
  if (size > limits.maxImageBytes) throw new MigeRequestTooLargeError(`${field} is ${size} bytes, over the limit of ${limits.maxImageBytes} bytes per image`);
  return decodeImageBytes(Buffer.from(payload, 'base64'), field, limits);
}

export function pngDataUrl(png: Uint8Array): string {
  return `data:image/png;base64,${Buffer.from(png).toString('base64')}`;
}
