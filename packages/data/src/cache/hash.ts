import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { RgbImage } from '@mige/core';

/** sha256 hex of a file's bytes: the cache key, so renamed or duplicated files share entries. */
export async function hashFile(path: string): Promise<{ hash: string; bytes: Uint8Array }> {
  const bytes = await readFile(path);
  return { hash: hashBytes(bytes), bytes };
}

export function hashBytes(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * sha256 of decoded pixels (with the size, so 2×3 and 3×2 images of the same bytes differ), for
 * images that have no file.
 */
export function hashPixels(img: RgbImage): string {
  const head = new Uint32Array([img.width, img.height]);
  return createHash('sha256').update(new Uint8Array(head.buffer)).update(img.data).digest('hex');
}
