import { decodeImage, MigeInputError, sniffImageFormat, type RgbImage } from '@mige/core';
import type { PlaygroundLimits } from '../api/api-types.js';
import { badRequest, HttpError } from './http-error.js';

const DATA_URL = /^data:image\/(png|jpeg|jpg);base64,([A-Za-z0-9+/]*={0,2})$/;

/** Decoded size of a base64 payload without decoding it. */
function base64Bytes(payload: string): number {
  const padding = payload.endsWith('==') ? 2 : payload.endsWith('=') ? 1 : 0;
  return Math.floor((payload.length * 3) / 4) - padding;
}

/**
 * A PNG or JPEG data URL → RGB image, checked against the limits before any pixel is decoded
 * (size first, then the header's dimensions through core's decodeImage limits).
 */
export async function decodeDataUrl(value: unknown, field: string, limits: PlaygroundLimits): Promise<RgbImage> {
  if (typeof value !== 'string') throw badRequest(`${field} must be a PNG or JPEG data URL string`);
  const match = DATA_URL.exec(value);
  if (!match) throw badRequest(`${field} must be a base64 data URL of a PNG or JPEG image (data:image/png;base64,... or data:image/jpeg;base64,...)`);
  const payload = match[2] ?? '';
  const size = base64Bytes(payload);
  if (size === 0) throw badRequest(`${field} is an empty image`);
  if (size > limits.maxImageBytes) throw new HttpError(413, `${field} is ${size} bytes, over the limit of ${limits.maxImageBytes} bytes per image`);
  const bytes = Buffer.from(payload, 'base64');
  try {
    const format = sniffImageFormat(bytes, field);
    if (format !== 'png' && format !== 'jpeg') throw badRequest(`${field} is ${format.toUpperCase()}: only PNG and JPEG are accepted`);
    return await decodeImage(bytes, {
      label: field,
      maxBytes: limits.maxImageBytes,
      maxWidth: limits.maxImageSide,
      maxHeight: limits.maxImageSide,
      maxPixels: limits.maxImagePixels,
    });
  } catch (e) {
    if (e instanceof MigeInputError) throw badRequest(e.message);
    throw e;
  }
}

export function pngDataUrl(png: Uint8Array): string {
  return `data:image/png;base64,${Buffer.from(png).toString('base64')}`;
}
