import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  blipEvalTransform,
  blipEvalTransformBatch,
  CLIP_MEAN,
  CLIP_STD,
  imageToTensor,
  normalizeImage,
  tensorToImages,
  vaeTransform,
  vaeTransformBatch,
} from '../../src/image/index.js';
import { countDiffs, inputImage, refFloats, refImage, refNamed, refsWithOp } from './refs.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('ToTensor + Normalize are bit-identical to torchvision (float32)', () => {
  it.each(refsWithOp('normalize').map((c) => [c.name, c] as const))('%s over all 256 levels', (_name, ref) => {
    const out = normalizeImage(inputImage(ref), { mean: ref.mean!, std: ref.std! });
    expect(countDiffs(out.data, refFloats(ref))).toBe(0);
  });

  it('defaults to [-1, 1]', () => {
    const out = normalizeImage(refImage(refNamed('input:ramp')));
    expect([out.data[0], out.data[255], out.data[128]]).toEqual([-1, 1, Math.fround(Math.fround(128 / 255) - 0.5) / 0.5]);
  });

  it('rejects a zero std', () => {
    expect(() => normalizeImage(refImage(refNamed('input:ramp')), { std: [0.5, 0, 0.5] })).toThrow(/std must not contain 0/);
  });
});

describe('preset transforms are bit-identical to torchvision', () => {
  it.each(refsWithOp('vaeTransform').map((c) => [c.name, c] as const))('%s', (_name, ref) => {
    const out = vaeTransform(inputImage(ref), ref.size);
    expect([out.height, out.width]).toEqual(ref.shape.slice(1));
    expect(countDiffs(out.data, refFloats(ref))).toBe(0);
  });

  it.each(refsWithOp('blipEvalTransform').map((c) => [c.name, c] as const))('%s', (_name, ref) => {
    const out = blipEvalTransform(inputImage(ref), ref.size);
    expect([out.height, out.width]).toEqual(ref.shape.slice(1));
    expect(countDiffs(out.data, refFloats(ref))).toBe(0);
  });

  it('defaults to 512 (VAE) and 224 (BLIP) and batches into [B, 3, H, W]', () => {
    const photo = refImage(refNamed('input:photo_rgb.png'));
    expect(vaeTransform(photo).data.length).toBe(3 * 512 * 512);
    expect(blipEvalTransform(photo).data.length).toBe(3 * 224 * 224);
    const vae = vaeTransformBatch([photo, photo], 32);
    const blip = blipEvalTransformBatch([photo], 24);
    expect(vae.shape).toEqual([2, 3, 32, 32]);
    expect(blip.shape).toEqual([1, 3, 24, 24]);
    const blipData = blip.dataSync();
    expect(countDiffs(blipData, blipEvalTransform(photo, 24).data)).toBe(0);
    expect(Math.min(...blipData)).toBeGreaterThanOrEqual(-0.48145466 / 0.26130258 - 1e-6);
    vae.dispose();
    blip.dispose();
  });
});

describe('imageToTensor', () => {
  const noise = refImage(refNamed('input:noise_rgb.png'));
  it('builds a float32 [B, 3, H, W] tensor', () => {
    const t = imageToTensor([noise, noise], { mean: CLIP_MEAN, std: CLIP_STD });
    expect(t.shape).toEqual([2, 3, 23, 37]);
    expect(t.dtype).toBe('float32');
    const data = t.dataSync();
    const single = normalizeImage(noise, { mean: CLIP_MEAN, std: CLIP_STD }).data;
    expect(countDiffs(data.subarray(0, single.length), single)).toBe(0);
    expect(countDiffs(data.subarray(single.length), single)).toBe(0);
    // CHW: element [0, 1, 2, 5] is the G value of pixel (x=5, y=2).
    const g = noise.data[(2 * 37 + 5) * 3 + 1]!;
    expect(data[1 * 23 * 37 + 2 * 37 + 5]).toBe(Math.fround(Math.fround(Math.fround(g / 255) - Math.fround(CLIP_MEAN[1])) / Math.fround(CLIP_STD[1])));
    t.dispose();
  });

  it('rejects an empty batch and mixed sizes', () => {
    expect(() => imageToTensor([])).toThrow(/no images given/);
    const small = refImage(refNamed('input:noise_rgb.png:T'));
    expect(() => imageToTensor([noise, small])).toThrow('images[1]: is 23x37, but images[0] is 37x23; a batch needs one size');
  });
});

describe('tensorToImages', () => {
  it("matches torchvision save_image's rounding of (x + 1) / 2, ties and out-of-range values included", () => {
    const input = refFloats(refNamed('input:toImage'));
    const expected = refImage(refNamed('toImage:saveImage'));
    const [image] = tensorToImages(tf.tensor4d(input, [1, 3, 20, 37]));
    expect([image!.width, image!.height]).toEqual([37, 20]);
    expect(countDiffs(image!.data, expected.data)).toBe(0);
  });

  it('inverts imageToTensor exactly for every uint8 level', () => {
    const ramp = refImage(refNamed('input:ramp'));
    const t = imageToTensor([ramp, ramp]);
    const back = tensorToImages(t);
    expect(back).toHaveLength(2);
    expect(back[1]).toEqual(ramp);
    t.dispose();
  });

  it('rejects a wrong shape, dtype or NaN', () => {
    expect(() => tensorToImages(tf.zeros([1, 4, 2, 2]) as tf.Tensor4D)).toThrow(/expected shape \[B, 3, H, W\], got \[1, 4, 2, 2\]/);
    expect(() => tensorToImages(tf.zeros([1, 3, 2, 2], 'int32') as tf.Tensor4D)).toThrow(/expected float32, got int32/);
    const nan = tf.tensor4d([0, 0, 0, NaN, 0, 0, 0, 0, 0, 0, 0, 0], [1, 3, 2, 2]);
    expect(() => tensorToImages(nan)).toThrow('tensorToImages: NaN at [0, 0, 1, 1]');
  });
});
