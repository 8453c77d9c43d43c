import { resize, type RgbImage } from '@mige/core';
import type { MigeModel } from '@mige/pipelines';

/**
 * What a job costs while it waits: its images, which are all the queue holds of it. Decoded at
 * full size they are large (a 4000×4000 PNG of 300 KB is 48 MB of pixels), so they are brought
 * down to the model's working size as the job is admitted, and decoding itself goes one image at
 * a time, so twenty requests arriving together cannot hold twenty full-size images at once.
 */

/**
 * The shortest side an admitted image keeps: the largest side any of the model's transforms
 * reads (the VAE's `imageSize`, the ViT's `imgSize`), so downscaling to it loses nothing the
 * model would have seen beyond resampling twice instead of once.
 */
export function admissionSide(model: MigeModel): number {
  return Math.max(model.config.imageSize, model.config.encoder.vision.imgSize);
}

/** `img` with its shorter side brought down to `side` (PIL bicubic, aspect kept); as is when already smaller. */
export function fitToSide(img: RgbImage, side: number): RgbImage {
  const short = Math.min(img.width, img.height);
  if (short <= side) return img;
  const scale = side / short;
  const width = img.width <= img.height ? side : Math.max(side, Math.round(img.width * scale));
  const height = img.height < img.width ? side : Math.max(side, Math.round(img.height * scale));
  return resize(img, width, height, 'bicubic');
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
