// Loading diffusers folders and single checkpoints in every layout vae-keys.ts maps.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MigeInputError, readSafetensors, tf, writeSafetensors, type TensorData } from '@mige/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lazyTempDir } from '@mige/core/testing';
import { SD_VAE_TINY, createAutoencoderKL, loadAutoencoderKL, loadVaeWeights, toDiffusersVaeConfig, type AutoencoderKL } from '../src/index.js';
import { expectClose, fixturePath, useBackend, vaeFixtureIo } from './helpers/backend.js';
import { toLdmNames, toLegacyAttentionNames } from './helpers/layouts.js';
import { writeTorchZip } from './helpers/torch-zip.js';

type Weights = Map<string, TensorData>;
const tmp = lazyTempDir('vae-load');
afterAll(tmp.remove);
const tempDir = tmp.get;
let counter = 0;

const weights: Weights = readSafetensors(fixturePath('vae/weights.safetensors'));
const CONFIG = toDiffusersVaeConfig(SD_VAE_TINY);

function writeSt(file: string, w: Weights): void {
  writeSafetensors(file, new Map([...w].map(([k, t]) => [k, { dtype: 'F32' as const, shape: t.shape, data: t.data }])));
}

/** A diffusers-style folder in the temp dir; `config` may be raw text. */
function folder(files: { config?: unknown; safetensors?: Weights; bin?: Weights; other?: Record<string, string> }): string {
  const dir = path.join(tempDir(), `vae${counter++}`);
  fs.mkdirSync(dir);
  if (files.config !== undefined) {
    fs.writeFileSync(path.join(dir, 'config.json'), typeof files.config === 'string' ? files.config : JSON.stringify(files.config));
  }
  if (files.safetensors) writeSt(path.join(dir, 'diffusion_pytorch_model.safetensors'), files.safetensors);
  if (files.bin) writeTorchZip(path.join(dir, 'diffusion_pytorch_model.bin'), files.bin);
  for (const [name, text] of Object.entries(files.other ?? {})) fs.writeFileSync(path.join(dir, name), text);
  return dir;
}

describe('loading weights', () => {
  let io: (name: string) => tf.Tensor4D;
  beforeAll(async () => {
    await useBackend('wasm');
    io = vaeFixtureIo();
  });

  /** The loaded model reproduces the fixture's decode (and so holds the fixture's weights). */
  function expectFixtureModel(vae: AutoencoderKL): void {
    expectClose(vae.decode(io('z')), io('decoded'), 1e-4, 'decoded');
    expectClose(vae.encode(io('image')).mean, io('latent_mean'), 1e-4, 'mean');
    vae.dispose();
  }

  it('a diffusers folder: config.json + diffusion_pytorch_model.safetensors', () => {
    const vae = loadAutoencoderKL(folder({ config: CONFIG, safetensors: weights }));
    expect(vae.config).toEqual(SD_VAE_TINY);
    expectFixtureModel(vae);
  });

  it('a diffusers folder with diffusion_pytorch_model.bin and pre-0.14 attention names (query/key/value/proj_attn)', () => {
    const legacy = toLegacyAttentionNames(weights);
    expect([...legacy.keys()]).toContain('encoder.mid_block.attentions.0.proj_attn.weight');
    expectFixtureModel(loadAutoencoderKL(folder({ config: CONFIG, bin: legacy })));
  });

  it('safetensors is preferred over .bin, and a variant picks its own file', () => {
    const broken = new Map(weights);
    broken.delete('quant_conv.bias');
    const dir = folder({ config: CONFIG, safetensors: weights, bin: broken });
    expectFixtureModel(loadAutoencoderKL(dir));
    writeSt(path.join(dir, 'diffusion_pytorch_model.fp16.safetensors'), broken);
    expect(() => loadAutoencoderKL(dir, { variant: 'fp16' })).toThrow(/diffusion_pytorch_model\.fp16\.safetensors.*missing keys: quant_conv\.bias/);
  });

  it('the original LDM layout, alone and inside a whole Stable Diffusion checkpoint', () => {
    const ldm = toLdmNames(weights, 2);
    // diffusers' up_blocks.1 (64→32, with a shortcut) is LDM's level 0, next to the image.
    expect([...ldm.keys()]).toContain('decoder.up.0.block.0.nin_shortcut.weight');
    expect(ldm.get('encoder.mid.attn_1.q.weight')?.shape).toEqual([64, 64, 1, 1]);
    const alone = path.join(tempDir(), 'vae-ldm.safetensors');
    writeSt(alone, ldm);
    let vae = createAutoencoderKL('tiny');
    expect(loadVaeWeights(vae, alone).layout).toBe('ldm');
    expectFixtureModel(vae);

    const whole = toLdmNames(weights, 2, 'first_stage_model.');
    const other: TensorData = { dtype: 'float32', shape: [2], data: new Float32Array(2) };
    whole.set('model.diffusion_model.out.0.weight', other);
    whole.set('cond_stage_model.transformer.x', other);
    const ckpt = path.join(tempDir(), 'sd.ckpt');
    writeTorchZip(ckpt, whole);
    vae = createAutoencoderKL('tiny');
    const report = loadVaeWeights(vae, ckpt);
    expect(report).toMatchObject({ layout: 'ldm', missing: [], unexpected: [], mismatched: [] });
    expectFixtureModel(vae);
  });
});

describe('bad folders, configs and checkpoints are MigeInputErrors naming the file', () => {
  beforeAll(() => useBackend('wasm'));

  const expectError = (f: () => unknown, message: RegExp): void => {
    expect(f).toThrow(MigeInputError);
    expect(f).toThrow(message);
  };

  it('the folder', () => {
    const missing = path.join(tempDir(), 'nope');
    expectError(() => loadAutoencoderKL(missing), new RegExp(`${missing}: no such folder`));
    const file = path.join(tempDir(), 'file.txt');
    fs.writeFileSync(file, 'x');
    expectError(() => loadAutoencoderKL(file), /file\.txt: is not a folder/);
  });

  it('config.json', () => {
    expectError(() => loadAutoencoderKL(folder({ safetensors: weights })), /config\.json: not found/);
    expectError(() => loadAutoencoderKL(folder({ config: '{"in_channels": 3,' })), /config\.json: is not valid JSON/);
    expectError(() => loadAutoencoderKL(folder({ config: [1] })), /config\.json: expected a JSON object/);
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ _class_name: 'UNet2DModel' }, /_class_name is "UNet2DModel", expected "AutoencoderKL"/],
      [{ block_out_channels: [32, 48] }, /block_out_channels entry 48 is not divisible by norm_num_groups 32/],
      [{ block_out_channels: 'wide' }, /block_out_channels must be an array of numbers, got "wide"/],
      [{ down_block_types: ['DownEncoderBlock2D'] }, /down_block_types \(1\), up_block_types \(2\) and block_out_channels \(2\) must have the same length/],
      [{ up_block_types: ['UpDecoderBlock2D', 'AttnUpDecoderBlock2D'] }, /up_block_types: "AttnUpDecoderBlock2D" is not supported/],
      [{ act_fn: 'gelu' }, /act_fn "gelu" is not supported/],
      [{ layers_per_block: 0 }, /layers_per_block must be a positive integer, got 0/],
      [{ scaling_factor: -1 }, /scaling_factor must be a positive number/],
      [{ shift_factor: 0.0609 }, /shift_factor 0\.0609 is not supported/],
      [{ use_quant_conv: 'yes' }, /use_quant_conv must be true or false/],
    ];
    for (const [change, message] of bad) {
      expectError(() => loadAutoencoderKL(folder({ config: { ...CONFIG, ...change }, safetensors: weights })), new RegExp(`config\\.json: ${message.source}`));
    }
  });

  it('the weights file', () => {
    expectError(
      () => loadAutoencoderKL(folder({ config: CONFIG })),
      /: no weights: expected diffusion_pytorch_model\.safetensors or diffusion_pytorch_model\.bin/,
    );
    const garbage = folder({ config: CONFIG, other: { 'diffusion_pytorch_model.safetensors': 'not a safetensors file' } });
    expectError(() => loadAutoencoderKL(garbage), /diffusion_pytorch_model\.safetensors/);
    const notTorch = folder({ config: CONFIG, other: { 'diffusion_pytorch_model.bin': 'plain text' } });
    expectError(() => loadAutoencoderKL(notTorch), /diffusion_pytorch_model\.bin: not a PyTorch checkpoint/);
  });

  it('missing, unexpected and misshapen tensors are each named', () => {
    const w = new Map(weights);
    w.delete('decoder.conv_out.bias');
    w.delete('encoder.mid_block.attentions.0.to_k.weight');
    w.set('encoder.extra.weight', { dtype: 'float32', shape: [1], data: new Float32Array(1) });
    w.set('quant_conv.weight', { dtype: 'float32', shape: [8, 4, 1, 1], data: new Float32Array(32) });
    // A config that disagrees with the checkpoint shows up as misshapen tensors too.
    const dir = folder({ config: CONFIG, safetensors: w });
    const f = () => loadAutoencoderKL(dir);
    expectError(f, /diffusion_pytorch_model\.safetensors: state dict does not match the module/);
    expectError(f, /missing keys: encoder\.mid_block\.attentions\.0\.to_k\.weight, decoder\.conv_out\.bias/);
    expectError(f, /unexpected keys: encoder\.extra\.weight/);
    expectError(f, /shape mismatch for quant_conv\.weight: expected \[8,8,1,1\], got \[8,4,1,1\]/);
  });
});
