import { MigeInputError, sniffImageFormat } from '@mige/core';
import { decodeDataUrl, decodeImageBytes, MigeRequestTooLargeError, type RequestImageReader } from '@mige/pipelines';
import { contentKey, isStoreRef, type ImageStore } from './store.js';

/** An image of a request as the producer takes it: PNG / JPEG bytes, a data URL, or a store reference. */
export type ImageInput = Uint8Array | string;

/** Largest result image read back (a result PNG of the biggest model is a few MB). */
export const MAX_RESULT_IMAGE_BYTES = 64 * 1024 * 1024;

/** Bytes → what travels in Redis: a data URL, or with a store, a reference to the stored bytes. Strings pass as they are. */
export async function travellingImage(value: ImageInput, field: string, store: ImageStore | undefined, maxBytes: number): Promise<string> {
  if (typeof value === 'string') return value;
  if (!(value instanceof Uint8Array)) throw new MigeInputError(`${field} must be PNG / JPEG bytes (Uint8Array), a data URL or a store reference`);
  if (value.length > maxBytes) throw new MigeRequestTooLargeError(`${field} is ${value.length} bytes, over the limit of ${maxBytes} bytes per image`);
  const format = sniffImageFormat(value, field);
  if (format !== 'png' && format !== 'jpeg') throw new MigeInputError(`${field} is ${format.toUpperCase()}: only PNG and JPEG are accepted`);
  if (store) return store.put(contentKey(value, 'inputs'), value);
  return `data:image/${format};base64,${Buffer.from(value).toString('base64')}`;
}

/** The request validator's image reader: data URLs, and store references where a store is configured. */
export function requestImageReader(store: ImageStore | undefined): RequestImageReader {
  return async (value, field, limits) => {
    if (!isStoreRef(value)) return decodeDataUrl(value, field, limits);
    if (!store) throw new MigeInputError(`${field} is a store reference (${value.slice(0, 80)}) but no store is configured here`);
    return decodeImageBytes(await store.get(value, limits.maxImageBytes), field, limits);
  };
}

/** A result or preview image (PNG data URL or store reference) → its PNG bytes. */
export async function readImageRef(ref: string, store: ImageStore | undefined): Promise<Buffer> {
  if (isStoreRef(ref)) {
    if (!store) throw new MigeInputError(`the result is in a store (${ref}) but no store is configured here`);
    return store.get(ref, MAX_RESULT_IMAGE_BYTES);
  }
  const comma = ref.indexOf(',');
  if (!ref.startsWith('data:image/png;base64,') || comma < 0) throw new MigeInputError(`not a PNG data URL or store reference: ${ref.slice(0, 40)}`);
  return Buffer.from(ref.slice(comma + 1), 'base64');
}
