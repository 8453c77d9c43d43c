import * as tf from '@tensorflow/tfjs-core';
import { MigeInputError } from '../errors.js';
import { assertRgbImage } from './rgb-image.js';
import type { ChwImage, RgbImage, RgbTriple } from './types.js';

export interface NormalizeOptions {
  /** Per-channel mean subtracted after scaling to [0, 1]. Default 0.5 (→ [-1, 1]). */
  mean?: RgbTriple;
  /** Per-channel divisor. Default 0.5. */
  std?: RgbTriple;
}

const HALF: RgbTriple = [0.5, 0.5, 0.5];
const f32 = Math.fround;

function checkStats(mean: RgbTriple, std: RgbTriple, where: string): void {
  if (mean.length !== 3 || std.length !== 3) throw new MigeInputError('mean and std must have 3 values (R, G, B)', where);
  if (![...mean, ...std].every(Number.isFinite)) throw new MigeInputError('mean and std must be finite', where);
  if (std.some((s) => s === 0)) throw new MigeInputError('std must not contain 0', where);
}

/**
 * torchvision's `ToTensor()` then `Normalize(mean, std)` on an 8-bit image, with the same
 * float32 roundings: x = f32(u8 / 255), then f32(x - mean), then f32(... / std). A 256-entry
 * table per channel holds every possible result.
 */
export function normalizeImage(img: RgbImage, opts: NormalizeOptions = {}): ChwImage {
  assertRgbImage(img, 'normalizeImage');
  const mean = opts.mean ?? HALF;
  const std = opts.std ?? HALF;
  checkStats(mean, std, 'normalizeImage');
  const plane = img.width * img.height;
  const out = new Float32Array(plane * 3);
  const table = new Float32Array(256);
  for (let c = 0; c < 3; c++) {
    const m = f32(mean[c]!);
    const s = f32(std[c]!);
    for (let v = 0; v < 256; v++) table[v] = f32(f32(f32(v / 255) - m) / s);
    const base = c * plane;
    for (let i = 0; i < plane; i++) out[base + i] = table[img.data[i * 3 + c]!]!;
  }
  return { width: img.width, height: img.height, data: out };
}

/** Stacks same-sized CHW images into a float32 tensor [B, 3, H, W]. */
export function chwToTensor(images: readonly ChwImage[]): tf.Tensor4D {
  const first = images[0];
  if (!first) throw new MigeInputError('no images given', 'chwToTensor');
  const plane = first.width * first.height * 3;
  const data = new Float32Array(plane * images.length);
  images.forEach((img, i) => {
    if (img.width !== first.width || img.height !== first.height) {
      throw new MigeInputError(
        `is ${img.width}x${img.height}, but images[0] is ${first.width}x${first.height}; a batch needs one size`,
        `images[${i}]`,
      );
    }
    if (img.data.length !== plane) {
      throw new MigeInputError(`has ${img.data.length} values, expected 3*${img.height}*${img.width}`, `images[${i}]`);
    }
    data.set(img.data, i * plane);
  });
  return tf.tensor4d(data, [images.length, 3, first.height, first.width], 'float32');
}

/**
 * RGB images → float32 tensor [B, 3, H, W] = (u8 / 255 - mean) / std, bit-identical to
 * torchvision's ToTensor + Normalize. Defaults map to [-1, 1]. All images must share one size.
 */
export function imageToTensor(images: readonly RgbImage[], opts: NormalizeOptions = {}): tf.Tensor4D {
  if (images.length === 0) throw new MigeInputError('no images given', 'imageToTensor');
  return chwToTensor(images.map((img) => normalizeImage(img, opts)));
}

/**
 * Float32 tensor [B, 3, H, W] in [-1, 1] → RGB images, with torchvision.utils.save_image's
 * rounding applied to (x + 1) / 2 clamped to [0, 1]: u8 = trunc(clamp(x01 * 255 + 0.5, 0, 255)),
 * every step in float32 (diffusers' numpy_to_pil rounds the same values half-to-even instead,
 * which differs only on exact float32 ties). NaN is rejected.
 */
export function tensorToImages(t: tf.Tensor4D): RgbImage[] {
  if (t.rank !== 4 || t.shape[1] !== 3) {
    throw new MigeInputError(`expected shape [B, 3, H, W], got [${t.shape.join(', ')}]`, 'tensorToImages');
  }
  if (t.dtype !== 'float32') throw new MigeInputError(`expected float32, got ${t.dtype}`, 'tensorToImages');
  const [batch, , height, width] = t.shape;
  const values = t.dataSync() as Float32Array;
  const plane = height * width;
  const images: RgbImage[] = [];
  for (let b = 0; b < batch; b++) {
    const data = new Uint8Array(plane * 3);
    for (let c = 0; c < 3; c++) {
      const base = (b * 3 + c) * plane;
      for (let i = 0; i < plane; i++) {
        const x = values[base + i]!;
        if (Number.isNaN(x)) {
          throw new MigeInputError(`NaN at [${b}, ${c}, ${Math.floor(i / width)}, ${i % width}]`, 'tensorToImages');
        }
        const unit = Math.min(Math.max(f32(x + 1) / 2, 0), 1);
        data[i * 3 + c] = Math.trunc(Math.min(f32(f32(unit * 255) + 0.5), 255));
      }
    }
    images.push({ width, height, data });
  }
  return images;
}
