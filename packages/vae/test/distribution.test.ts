// The latent distribution: clamping, sampling streams, batching and memory.
import { Rng, nn, tf } from '@mige/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DiagonalGaussianDistribution, createAutoencoderKL, type AutoencoderKL } from '../src/index.js';
import { expectClose, useBackend, vaeFixtureIo } from './helpers/backend.js';

describe('DiagonalGaussianDistribution', () => {
  beforeAll(() => useBackend('wasm'));

  it('clamps the log-variance to [-30, 20] and takes std = exp(logvar/2)', () => {
    const moments = tf.tensor4d([1, 2, 50, -40], [1, 4, 1, 1]);
    const d = new DiagonalGaussianDistribution(moments);
    expect(Array.from(d.mean.dataSync())).toEqual([1, 2]);
    expect(Array.from(d.logvar.dataSync())).toEqual([20, -30]);
    expectClose(d.std, tf.tensor4d([Math.exp(10), Math.exp(-15)], [1, 2, 1, 1]), 1e-2, 'std');
    const mode = d.mode();
    mode.dispose();
    expect(d.mean.isDisposed).toBe(false);
    d.dispose();
  });

  it('sample(rng) is mean + std·ε with ε drawn from the generator in NCHW order', () => {
    const d = new DiagonalGaussianDistribution(tf.randomNormal([2, 8, 3, 3], 0, 1, 'float32', 4) as tf.Tensor4D);
    const s = d.sample(new Rng(7));
    const eps = new Rng(7).randn([2, 4, 3, 3]);
    expectClose(s, tf.add(d.mean, tf.mul(d.std, eps)), 1e-6, 'sample');
    expectClose(d.sample(new Rng(7)), s, 0, 'same seed');
    expect(tf.max(tf.abs(tf.sub(d.sample(new Rng(8)), s))).dataSync()[0]).toBeGreaterThan(0.1);
    d.dispose();
  });

  it('sample(rng[]) gives each item its own stream, whatever the rest of the batch', () => {
    const moments = tf.randomNormal([3, 8, 2, 2], 0, 1, 'float32', 5) as tf.Tensor4D;
    const batch = new DiagonalGaussianDistribution(moments);
    const seeds = [10, 20, 30];
    const together = batch.sample(seeds.map((s) => new Rng(s)));
    seeds.forEach((seed, i) => {
      const alone = new DiagonalGaussianDistribution(tf.slice(moments, [i, 0, 0, 0], [1, -1, -1, -1]));
      expectClose(tf.slice(together, [i, 0, 0, 0], [1, -1, -1, -1]), alone.sample([new Rng(seed)]), 0, `item ${i}`);
      alone.dispose();
    });
    batch.dispose();
  });
});

describe('batches and memory', () => {
  let vae: AutoencoderKL;
  let io: (name: string) => tf.Tensor4D;
  beforeAll(async () => {
    await useBackend('wasm');
    io = vaeFixtureIo();
    nn.manualSeed(3);
    vae = createAutoencoderKL('tiny', { init: true });
  });
  afterAll(() => vae.dispose());

  it.each([true, false])('a batch encodes and decodes as its items do one by one (useSlicing %s)', (slicing) => {
    vae.useSlicing = slicing;
    const a = io('image');
    const b = tf.reverse(a, 3) as tf.Tensor4D;
    const both = vae.encode(tf.concat([a, b]));
    const [ma, mb] = [vae.encode(a).mean, vae.encode(b).mean];
    expectClose(both.mean, tf.concat([ma, mb]), 1e-5, 'mean');
    expectClose(vae.decode(both.mean), tf.concat([vae.decode(ma), vae.decode(mb)]), 1e-5, 'decode');
    vae.useSlicing = true;
  });

  it('encode and decode leave no tensors behind', () => {
    const image = tf.concat([io('image'), io('image')]);
    const run = () => {
      const d = vae.encode(image);
      vae.decode(d.mean).dispose();
      d.dispose();
    };
    run();
    const before = tf.memory().numTensors;
    run();
    expect(tf.memory().numTensors).toBe(before);
  });
});
