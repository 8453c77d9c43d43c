import { Rng, type RgbImage } from '@mige/core';

/** A small test picture with structure: a seeded colour square on a gradient. */
export function picture(seed: number, width = 40, height = 30): RgbImage {
  const rng = new Rng(seed);
  const data = new Uint8Array(width * height * 3);
  const [r, g, b] = [rng.int(0, 256), rng.int(0, 256), rng.int(0, 256)];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const inside = x > width / 4 && x < (3 * width) / 4 && y > height / 4 && y < (3 * height) / 4;
      data.set(inside ? [r, g, b] : [(x * 255) / width, (y * 255) / height, 128], (y * width + x) * 3);
    }
  }
  return { width, height, data };
}
