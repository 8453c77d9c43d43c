import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRgbImage, writeImage } from '@mige/core';

/** A w x h PNG with a gradient, so resizes and crops give non-trivial values. */
export async function writePng(path: string, w: number, h: number): Promise<void> {
  const img = createRgbImage(w, h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const o = (y * w + x) * 3;
      img.data[o] = (x * 255) / Math.max(1, w - 1);
      img.data[o + 1] = (y * 255) / Math.max(1, h - 1);
      img.data[o + 2] = (x * y) % 256;
    }
  }
  await writeImage(path, img);
}

export async function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'mige-data-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export async function writeJson(path: string, value: unknown): Promise<void> {
  await writeFile(path, JSON.stringify(value));
}
