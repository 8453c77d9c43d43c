import { resize, type RgbImage } from '@mige/core';
import type { MigeModel } from '../model/index.js';

/**
 * What a job costs while it waits: its images, which are all a queue holds of it. Decoded at
 * full size they are large (a 4000×4000 PNG of 300 KB is 48 MB of pixels), so they are brought
 * down to the model's working size as the job is admitted (the playground's server, a queue's
 * worker), and decoding itself goes one image at a time, so twenty requests arriving together
 * cannot hold twenty full-size images at once.
 */

/**
 * The shortest side an admitted image keeps: the largest side any of the model's transforms
 * reads (the VAE's `imageSize`, the ViT's `imgSize`), so downscaling to it loses nothing the
 * model would have seen beyond resampling twice instead of once.
 */
export function admissionSide(model: MigeModel): number {
  return Math.max(model.config.imageSize, model.config.encoder.vision.imgSize);
}

/**
 * `img` with its shorter side brought down to `side`, aspect kept; as is when already smaller.
 * As PIL's `thumbnail` (reducing_gap 2): first a box reduce by the largest integer factor that
 * leaves at least twice the target, then bicubic. A bicubic straight from 4000 px to 64 would
 * weigh 250 source pixels per output pixel; the box pass reads each pixel once.
 */
export function fitToSide(img: RgbImage, side: number): RgbImage {
  const short = Math.min(img.width, img.height);
  if (short <= side) return img;
  const scale = side / short;
  const width = img.width <= img.height ? side : Math.max(side, Math.round(img.width * scale));
  const height = img.height < img.width ? side : Math.max(side, Math.round(img.height * scale));
  const factor = Math.floor(short / (2 * side));
  return resize(factor >= 2 ? boxReduce(img, factor) : img, width, height, 'bicubic');
}

/** The mean of each `factor`×`factor` block (blocks at the right and bottom edges may be smaller), as PIL's `Image.reduce`. */
export function boxReduce(img: RgbImage, factor: number): RgbImage {
  const { width, height, data } = img;
  const w = Math.ceil(width / factor);
  const h = Math.ceil(height / factor);
  // A block's sum is at most 255 × factor² (factor < 2^12 for sides up to 16384): fits 32 bits.
  const sums = new Uint32Array(w * 3);
  const out = new Uint8Array(w * h * 3);
  for (let by = 0; by < h; by++) {
    sums.fill(0);
    const y0 = by * factor;
    const y1 = Math.min(height, y0 + factor);
    for (let y = y0; y < y1; y++) {
      let at = y * width * 3;
      for (let bx = 0, x = 0; bx < w; bx++) {
        const o = bx * 3;
        let r = 0;
        let g = 0;
        let b = 0;
        for (const end = Math.min(width, x + factor); x < end; x++, at += 3) {
          r += data[at] as number;
          g += data[at + 1] as number;
          b += data[at + 2] as number;
        }
        sums[o] = (sums[o] as number) + r;
        sums[o + 1] = (sums[o + 1] as number) + g;
        sums[o + 2] = (sums[o + 2] as number) + b;
      }
    }
    for (let bx = 0; bx < w; bx++) {
      const count = (Math.min(width, (bx + 1) * factor) - bx * factor) * (y1 - y0);
      for (let c = 0; c < 3; c++) out[(by * w + bx) * 3 + c] = Math.round((sums[bx * 3 + c] as number) / count);
    }
  }
  return { width: w, height: h, data: out };
}

/** Bytes a job's images hold in the queue. */
export function imageBytes(images: readonly RgbImage[]): number {
  return images.reduce((n, img) => n + img.data.byteLength, 0);
}

/** Runs tasks one at a time, in arrival order (a promise chain: no task waits on a failed one). */
export class Gate {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task, task);
    this.tail = result.catch(() => undefined);
    return result;
  }
}
