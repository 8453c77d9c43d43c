import { Rng, tf, type ChwImage, type Latents } from '@mige/core';
import type { LatentMode, MigeModel } from '../model/index.js';

/** One image's latent distribution, [C, h, w] each, read back once. */
interface Moments { mean: Float32Array; std: Float32Array }

/** Two independent 32-bit FNV-style hashes of the pixels: a 64-bit key, collisions negligible. */
function imageKey(img: ChwImage): string {
  const words = new Uint32Array(img.data.buffer, img.data.byteOffset, img.data.length);
  let a = 0x811c9dc5, b = 0x9e3779b9;
  for (let k = 0; k < words.length; k++) {
    const w = words[k] as number;
    a = Math.imul(a ^ w, 0x01000193);
    b = Math.imul(b ^ w, 0x85ebca6b) ^ (b >>> 13);
  }
  return `${img.width}x${img.height}:${(a >>> 0).toString(16)}:${(b >>> 0).toString(16)}`;
}

/**
 * The frozen VAE's moments per training image, kept across steps. A world dataset shows each
 * image several times in a run, and the VAE encode is a quarter of a 64 px step. Latents drawn
 * from the cache equal the uncached ones: mean + std·ε with ε from the same generators, in the
 * same NCHW order (LatentDistribution.sample).
 */
export class LatentCache {
  private readonly entries = new Map<string, Moments>();

  /** @param maxEntries images kept (8 KB each at 16×16×4); beyond, new images are not cached. */
  constructor(readonly maxEntries = 50_000) {}

  get size(): number {
    return this.entries.size;
  }

  /** Unscaled latents [n, C, h, w] of images; 'sample' needs rngs[i] for image i. */
  encode(model: MigeModel, images: readonly ChwImage[], toTensor: (imgs: readonly ChwImage[]) => tf.Tensor4D, mode: LatentMode, rngs: readonly Rng[]): Latents {
    const keys = images.map(imageKey);
    const missing = [...new Set(keys.filter((k) => !this.entries.has(k)))];
    const fresh = new Map<string, Moments>();
    if (missing.length > 0) {
      const firstOf = missing.map((k) => images[keys.indexOf(k)] as ChwImage);
      const dist = model.vae.encode(toTensor(firstOf));
      try {
        const perItem = dist.mean.size / missing.length;
        const mean = dist.mean.dataSync() as Float32Array, std = dist.std.dataSync() as Float32Array;
        missing.forEach((k, i) => {
          const m = { mean: mean.slice(i * perItem, (i + 1) * perItem), std: std.slice(i * perItem, (i + 1) * perItem) };
          fresh.set(k, m);
          if (this.entries.size < this.maxEntries) this.entries.set(k, m);
        });
      } finally {
        dist.dispose();
      }
    }
    const moments = keys.map((k) => (this.entries.get(k) ?? fresh.get(k)) as Moments);
    const [c, h, w] = [model.vae.latentChannels, model.latentSize(), model.latentSize()];
    const perItem = c * h * w;
    const n = images.length;
    const mean = new Float32Array(n * perItem);
    moments.forEach((m, i) => mean.set(m.mean, i * perItem));
    if (mode === 'mean') return tf.tensor4d(mean, [n, c, h, w]) as Latents;
    const std = new Float32Array(n * perItem), eps = new Float32Array(n * perItem);
    moments.forEach((m, i) => {
      std.set(m.std, i * perItem);
      (rngs[i] as Rng).fillNormal(eps.subarray(i * perItem, (i + 1) * perItem));
    });
    return tf.tidy(() => tf.add(tf.tensor4d(mean, [n, c, h, w]), tf.mul(tf.tensor4d(std, [n, c, h, w]), tf.tensor4d(eps, [n, c, h, w]))) as Latents);
  }
}
