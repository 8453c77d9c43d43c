// Wrong inputs are MigeInputErrors that say what is wrong and where.
import { MigeInputError, Rng, tf } from '@mige/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAutoencoderKL, type AutoencoderKL } from '../src/index.js';
import { useBackend } from './helpers/backend.js';

describe('input checks', () => {
  let vae: AutoencoderKL;
  beforeAll(async () => {
    await useBackend('wasm');
    vae = createAutoencoderKL('tiny');
  });
  afterAll(() => vae.dispose());

  const expectError = (f: () => unknown, message: RegExp): void => {
    expect(f).toThrow(MigeInputError);
    expect(f).toThrow(message);
  };

  it('encode', () => {
    const enc = (shape: number[], dtype: 'float32' | 'int32' = 'float32') => () => vae.encode(tf.zeros(shape, dtype) as unknown as tf.Tensor4D);
    expectError(enc([1, 4, 16, 16]), /AutoencoderKL\.encode: images has shape \[1, 4, 16, 16\], expected \[B, 3, H, W\] \(dim 1 must be 3\)/);
    expectError(enc([3, 16, 16]), /AutoencoderKL\.encode: images has shape \[3, 16, 16\], expected \[B, 3, H, W\] \(rank 3, expected rank 4\)/);
    expectError(enc([1, 3, 15, 16]), /AutoencoderKL\.encode: images is 15×16; height and width must be multiples of 2/);
    expectError(enc([1, 3, 16, 16], 'int32'), /AutoencoderKL\.encode: images has dtype int32, expected float32/);
    expectError(enc([0, 3, 16, 16]), /AutoencoderKL\.encode: images has shape \[0, 3, 16, 16\], which is empty/);
  });

  it('decode', () => {
    const dec = (shape: number[]) => () => vae.decode(tf.zeros(shape) as unknown as tf.Tensor4D);
    expectError(dec([1, 3, 8, 8]), /AutoencoderKL\.decode: latents has shape \[1, 3, 8, 8\], expected \[B, 4, H, W\] \(dim 1 must be 4\)/);
    expectError(dec([1, 4, 8]), /AutoencoderKL\.decode: latents has shape \[1, 4, 8\]/);
  });

  it('sample with the wrong number of generators', () => {
    const dist = vae.encode(tf.zeros([2, 3, 8, 8]));
    expectError(() => dist.sample([new Rng(1)]), /LatentDistribution\.sample: got 1 generators for a batch of 2/);
    dist.dispose();
  });

  it('the NHWC module paths check their inputs too', () => {
    expectError(() => vae.encoder.convIn.forwardNHWC(tf.zeros([1, 3, 8, 8])), /Conv2d\.forwardNHWC: input has shape \[1,3,8,8\], expected \[B, H, W, 3\]/);
    expectError(() => vae.encoder.convNormOut.forwardNHWC(tf.zeros([1, 8, 8, 32])), /GroupNorm\.forwardNHWC: input has shape \[1,8,8,32\], expected \[B, \.\.\., 64\]/);
  });
});
