// State-dict round trips, load reports and the presets' sizes.
import * as path from 'node:path';
import { MigeInputError, SafetensorsReader, nn, readSafetensors, tf, writeSafetensors, type VaeCodec } from '@mige/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lazyTempDir } from '@mige/core/testing';
import { AutoencoderKL, SD_VAE_FT_EMA, SD_VAE_TINY, createAutoencoderKL, validateVaeConfig } from '../src/index.js';
import { expectClose, fixturePath, useBackend } from './helpers/backend.js';

const tmp = lazyTempDir('vae-sd');

afterAll(tmp.remove);

const tempDir = tmp.get;

describe('state dicts', () => {
  beforeAll(() => useBackend('wasm'));

  it('round trip: a randomly initialised model saved and loaded gives the same tensors and outputs', () => {
    nn.manualSeed(11);
    const a = createAutoencoderKL('tiny', { init: true });
    const file = path.join(tempDir(), 'rt.safetensors');
    writeSafetensors(file, new Map([...a.stateDict()].map(([k, t]) => [k, { dtype: 'F32' as const, shape: t.shape, data: t.dataSync() as Float32Array }])));
    const b = createAutoencoderKL('tiny');
    const reader = SafetensorsReader.open(file);
    expect(b.loadStateDict(reader)).toEqual({ missing: [], unexpected: [], mismatched: [] });
    reader.close();
    for (const [k, t] of a.stateDict()) expectClose(b.stateDict().get(k) as tf.Tensor, t, 0, k);
    const z = tf.randomNormal([1, 4, 4, 4], 0, 1, 'float32', 1) as tf.Tensor4D;
    expectClose(b.decode(z), a.decode(z), 0, 'decode');
    // Loading a module's own state dict is a no-op that keeps it intact.
    b.loadStateDict(b.stateDict());
    expectClose(b.decode(z), a.decode(z), 0, 'decode after self-load');
    a.dispose();
    b.dispose();
  });

  it('missing, unexpected and misshapen keys are each reported; strict loading changes nothing', () => {
    const vae = createAutoencoderKL('tiny');
    const sd: nn.StateDict = new Map(readSafetensors(fixturePath('vae/weights.safetensors')));
    sd.delete('encoder.conv_in.bias');
    sd.set('decoder.bogus', { dtype: 'float32', shape: [3], data: new Float32Array(3) });
    sd.set('post_quant_conv.weight', { dtype: 'float32', shape: [4, 4], data: new Float32Array(16) });
    expect(() => vae.loadStateDict(sd)).toThrow(MigeInputError);
    expect(() => vae.loadStateDict(sd)).toThrow(/missing keys: encoder\.conv_in\.bias; unexpected keys: decoder\.bogus; shape mismatch for post_quant_conv\.weight: expected \[4,4,1,1\], got \[4,4\]/);
    expect(tf.sum(tf.abs(vae.encoder.convOut.weight)).dataSync()[0]).toBe(0);
    const report = vae.loadStateDict(sd, { strict: false });
    expect(report).toEqual({
      missing: ['encoder.conv_in.bias'],
      unexpected: ['decoder.bogus'],
      mismatched: [{ key: 'post_quant_conv.weight', expected: [4, 4, 1, 1], actual: [4, 4] }],
    });
    // Everything else was loaded.
    expect(tf.sum(tf.abs(vae.encoder.convOut.weight)).dataSync()[0]).toBeGreaterThan(0);
    vae.dispose();
  });

  it('sd-vae-ft-ema has the SD-VAE size and the VaeCodec numbers', () => {
    const vae: AutoencoderKL = createAutoencoderKL('sd-vae-ft-ema');
    const codec: VaeCodec = vae;
    expect([codec.scalingFactor, codec.downsampleFactor, codec.latentChannels]).toEqual([0.18215, 8, 4]);
    // diffusers' AutoencoderKL.from_pretrained('stabilityai/sd-vae-ft-ema') has 83,653,863 parameters in 248 tensors.
    expect(vae.numParameters()).toBe(83_653_863);
    expect(vae.stateDict().size).toBe(248);
    expect(vae.stateDict().get('decoder.up_blocks.3.resnets.0.conv_shortcut.weight')?.shape).toEqual([128, 256, 1, 1]);
    expect(vae.stateDict().get('encoder.mid_block.attentions.0.to_out.0.weight')?.shape).toEqual([512, 512]);
    vae.dispose();
    expect(createAutoencoderKL('tiny').downsampleFactor).toBe(2);
  });

  it('presets and configs are validated', () => {
    expect(() => validateVaeConfig(SD_VAE_FT_EMA)).not.toThrow();
    expect(() => createAutoencoderKL('sd-vae' as 'tiny')).toThrow(/createAutoencoderKL: unknown preset "sd-vae"; expected one of sd-vae-ft-ema, tiny/);
    expect(() => createAutoencoderKL({ ...SD_VAE_TINY, normNumGroups: 24 })).toThrow(/AutoencoderKLConfig: blockOutChannels entry 32 is not divisible by normNumGroups 24/);
    const noAttn = createAutoencoderKL({ ...SD_VAE_TINY, midBlockAddAttention: false, useQuantConv: false });
    expect([...noAttn.stateDict().keys()].some((k) => k.includes('attentions') || k.startsWith('quant_conv'))).toBe(false);
    expect(noAttn.encode(tf.zeros([1, 3, 8, 8])).mean.shape).toEqual([1, 4, 4, 4]);
    noAttn.dispose();
  });
});
