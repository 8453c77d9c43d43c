import { tf, type ImageBatch } from '@mige/core';
import { DiagonalGaussianDistribution, type AutoencoderKL } from '@mige/vae';

/** What the cache wraps and stands in for: a frozen VAE's encoder. */
export type LatentEncoder = Pick<AutoencoderKL, 'encode'>;

/** Two independent 32-bit FNV-style hashes of one image's pixels: a 64-bit key, collisions negligible. */
function imageKey(pixels: Float32Array): string {
  const words = new Uint32Array(pixels.buffer, pixels.byteOffset, pixels.length);
  let a = 0x811c9dc5, b = 0x9e3779b9;
  for (let k = 0; k < words.length; k++) {
    const w = words[k] as number;
    a = Math.imul(a ^ w, 0x01000193);
    b = Math.imul(b ^ w, 0x85ebca6b) ^ (b >>> 13);
  }
  return `${pixels.length}:${(a >>> 0).toString(16)}:${(b >>> 0).toString(16)}`;
}

/** One image's moments: mean then log-variance, each [c, h, w]. */
interface Entry { moments: Float32Array; shape: [number, number, number] }

/**
 * A frozen VAE's encoder that remembers each image's moments (mean and log-variance) across
 * training steps: a world dataset shows each image several times in a run, and the VAE encode is
 * a quarter of a 64 px step. It returns the same distribution the VAE would, so sampling from it
 * (LatentDistribution.sample with the same generators) gives the same latents.
 */
export class LatentCache implements LatentEncoder {
  private readonly entries = new Map<string, Entry>();
  /** What the last `fill` encoded beyond maxEntries, kept until the next fill. */
  private pinned = new Map<string, Entry>();

  /** @param maxEntries images kept (8 KB each at 4×16×16); beyond, new images are encoded every time. */
  constructor(private readonly vae: LatentEncoder, readonly maxEntries = 50_000) {}

  get size(): number {
    return this.entries.size;
  }

  /** images [n, 3, H, W] → their latent distribution, encoding only the images not seen before. */
  encode(images: ImageBatch): DiagonalGaussianDistribution {
    const keys = this.keysOf(images);
    const missing = [...new Set(keys.filter((k) => !this.known(k)))];
    const fresh = new Map<string, Entry>();
    if (missing.length > 0) {
      const picked = tf.gather(images, missing.map((k) => keys.indexOf(k))) as ImageBatch;
      const dist = this.vae.encode(picked);
      picked.dispose();
      try {
        this.store(missing, dist, fresh);
      } finally {
        dist.dispose();
      }
    }
    return this.distributionOf(keys, fresh);
  }

  /**
   * Encodes, with `encode` (e.g. an ONNX Runtime session), the images not seen before, so that
   * the next `encode` of any of them needs no VAE. Images beyond maxEntries are kept until the
   * next fill.
   */
  async fill(images: ImageBatch, encode: (images: ImageBatch) => Promise<DiagonalGaussianDistribution>): Promise<void> {
    const keys = this.keysOf(images);
    const missing = [...new Set(keys.filter((k) => !this.entries.has(k)))];
    this.pinned = new Map();
    if (missing.length === 0) return;
    const picked = tf.gather(images, missing.map((k) => keys.indexOf(k))) as ImageBatch;
    try {
      const dist = await encode(picked);
      try {
        this.store(missing, dist, this.pinned);
      } finally {
        dist.dispose();
      }
    } finally {
      picked.dispose();
    }
  }

  private keysOf(images: ImageBatch): string[] {
    const n = images.shape[0];
    const pixels = images.dataSync() as Float32Array;
    const per = pixels.length / n;
    return Array.from({ length: n }, (_, i) => imageKey(pixels.subarray(i * per, (i + 1) * per)));
  }

  private known(key: string): boolean {
    return this.entries.has(key) || this.pinned.has(key);
  }

  /** Keeps each image's moments: in the cache while it has room, and in `overflow` always. */
  private store(keys: readonly string[], dist: DiagonalGaussianDistribution, overflow: Map<string, Entry>): void {
    const shape = dist.mean.shape.slice(1) as [number, number, number];
    const size = dist.mean.size / keys.length;
    const mean = dist.mean.dataSync() as Float32Array, logvar = dist.logvar.dataSync() as Float32Array;
    keys.forEach((k, i) => {
      const moments = new Float32Array(2 * size);
      moments.set(mean.subarray(i * size, (i + 1) * size));
      moments.set(logvar.subarray(i * size, (i + 1) * size), size);
      overflow.set(k, { moments, shape });
      if (this.entries.size < this.maxEntries) this.entries.set(k, { moments, shape });
    });
  }

  private distributionOf(keys: readonly string[], fresh: Map<string, Entry>): DiagonalGaussianDistribution {
    const n = keys.length;
    const rows = keys.map((k) => (this.entries.get(k) ?? this.pinned.get(k) ?? fresh.get(k)) as Entry);
    const [c, h, w] = (rows[0] as Entry).shape;
    const all = new Float32Array(n * 2 * c * h * w);
    rows.forEach((r, i) => all.set(r.moments, i * r.moments.length));
    const moments = tf.tensor4d(all, [n, 2 * c, h, w]);
    try {
      return new DiagonalGaussianDistribution(moments);
    } finally {
      moments.dispose();
    }
  }
}
