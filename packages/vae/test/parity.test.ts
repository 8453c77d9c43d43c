// AutoencoderKL against the `vae` golden fixture (diffusers AutoencoderKL, fp32, CPU PyTorch).
import { readFileSync } from 'node:fs';
import { SafetensorsReader, tf } from '@mige/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AutoencoderKL, SD_VAE_TINY, createAutoencoderKL, parseDiffusersVaeConfig } from '../src/index.js';
import { TEST_BACKENDS, expectClose, fixturePath, useBackend, vaeFixtureIo } from './helpers/backend.js';

const TOL = 1e-4;
const fixtureConfig = JSON.parse(readFileSync(fixturePath('vae/config.json'), 'utf8')) as {
  hyperparameters: Record<string, unknown>;
  weights: { tensors: Record<string, unknown> };
};

describe('the tiny preset', () => {
  it('is the fixture config', () => {
    expect(parseDiffusersVaeConfig(fixtureConfig.hyperparameters, 'fixture')).toEqual(SD_VAE_TINY);
  });
});

describe.each(TEST_BACKENDS)('AutoencoderKL parity with diffusers on %s', (backend) => {
  let vae: AutoencoderKL;
  let io: (name: string) => tf.Tensor4D;
  const diffs: Record<string, number> = {};

  beforeAll(async () => {
    await useBackend(backend);
    io = vaeFixtureIo();
    vae = createAutoencoderKL('tiny');
    const weights = SafetensorsReader.open(fixturePath('vae/weights.safetensors'));
    vae.loadStateDict(weights);
    weights.close();
  });
  afterAll(() => {
    vae.dispose();
    // The measured differences, for the README's parity table.
    console.log(`[vae parity ${backend}] max abs diff: ${JSON.stringify(diffs)}`);
  });

  it('has the fixture state dict: same keys in the same order', () => {
    expect([...vae.stateDict().keys()]).toEqual(Object.keys(fixtureConfig.weights.tensors));
  });

  it('encoder, quant_conv and the latent distribution', () => {
    const image = io('image');
    diffs.encoder_out = expectClose(vae.encoder.forward(image), io('encoder_out'), TOL, 'encoder_out');
    diffs.quant_conv_out = expectClose(vae.encodeMoments(image), io('quant_conv_out'), TOL, 'quant_conv_out');
    const dist = vae.encode(image);
    diffs.latent_mean = expectClose(dist.mean, io('latent_mean'), TOL, 'mean');
    diffs.latent_logvar = expectClose(dist.logvar, io('latent_logvar'), TOL, 'logvar');
    diffs.latent_std = expectClose(dist.std, io('latent_std'), TOL, 'std');
    diffs.mode = expectClose(dist.mode(), io('latent_mean'), TOL, 'mode');
    dist.dispose();
  });

  it('post_quant_conv and decode of the stored z', () => {
    const z = io('z');
    diffs.post_quant_conv_out = expectClose(vae.postQuantConv?.forward(z) as tf.Tensor, io('post_quant_conv_out'), TOL, 'post_quant_conv_out');
    diffs.decoded = expectClose(vae.decode(z), io('decoded'), TOL, 'decoded');
  });
});
