import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MigeInputError, Rng, SafetensorsReader, tf, writeSafetensors, type Latents, type TokenMask, type TokenSequence } from '@mige/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel, MIGE_TINY, MigeModel, modelTensors, readModelConfig, saveModel, writeModelConfig } from '../../src/model/index.js';
import { maxAbsDiff, randomizeAll, sameTensors, tempDir, TEST_BACKENDS, useBackend } from './helpers.js';

/** Every output path on a small input: image tokens + T5 (encoder), the DiT, VAE encode and decode. */
function outputs(m: MigeModel): tf.Tensor[] {
  const rng = new Rng(5);
  const s = m.config.encoder.vision.imgSize;
  const h = m.latentSize();
  const latents = rng.randn([1, 4, h, h]) as Latents;
  const { y, mask } = m.encoder.encode([{ text: 'a <imagehere> on grass', images: rng.randn([1, 3, s, s]) as tf.Tensor4D, latents }], {
    fusion: m.fusion,
    patchEmbedder: m.backbone.patchEmbedder,
  });
  const { eps, variance } = m.backbone.forward({ x: rng.randn([1, 4, h, h]) as Latents, cond: latents, t: tf.tensor1d([500], 'int32'), y: y as TokenSequence, mask: mask as TokenMask });
  const dist = m.vae.encode(rng.randn([1, 3, m.config.imageSize, m.config.imageSize]) as tf.Tensor4D);
  return [y, eps, variance as tf.Tensor, dist.mean, dist.logvar, m.vae.decode(latents)];
}

describe.each(TEST_BACKENDS)('saveModel / loadModel on %s', (backend) => {
  let model: MigeModel;
  let tmp: { dir: string; cleanup: () => void };
  let saved: string;
  beforeAll(async () => {
    await useBackend(backend);
    model = MigeModel.create(MIGE_TINY, { seed: 11 });
    randomizeAll(model, 'checkpoint');
    tmp = tempDir();
    saved = join(tmp.dir, 'nested', 'tiny-model');
    saveModel(model, saved);
  });
  afterAll(() => {
    model.dispose();
    tmp.cleanup();
  });

  it('writes the three files and no temp files', () => {
    expect(readdirSync(saved).sort()).toEqual(['config.json', 'model.safetensors', 'tokenizer.json']);
    expect(readdirSync(join(tmp.dir, 'nested'))).toEqual(['tiny-model']);
    const config = JSON.parse(readFileSync(join(saved, 'config.json'), 'utf8')) as Record<string, unknown>;
    expect(config).toEqual({ format: 'mige.js-model', version: 1, config: JSON.parse(JSON.stringify(MIGE_TINY)) });
    const reader = SafetensorsReader.open(join(saved, 'model.safetensors'));
    const keys = reader.keys();
    reader.close();
    expect(keys).toContain('vae.encoder.conv_in.weight');
    expect(keys).toContain('FFM.mlp.weight');
    expect(keys).not.toContain('t5_model.encoder.embed_tokens.weight'); // stored once, as shared.weight
    // Saving again over the folder replaces files in place, leaving nothing behind.
    saveModel(model, saved);
    expect(readdirSync(saved).sort()).toEqual(['config.json', 'model.safetensors', 'tokenizer.json']);
  });

  it('loads bit-exact, and the loaded model computes the same outputs', () => {
    const loaded = loadModel(saved);
    expect(sameTensors(modelTensors(loaded), modelTensors(model))).toEqual([]);
    expect(loaded.config).toEqual(MIGE_TINY);
    expect(loaded.tokenizer.encode('a red hat')).toEqual(model.tokenizer.encode('a red hat'));
    const a = outputs(model), b = outputs(loaded);
    a.forEach((t, i) => {
      expect(maxAbsDiff(t, b[i] as tf.Tensor)).toBe(0);
      expect(maxAbsDiff(t, tf.zerosLike(t))).toBeGreaterThan(0); // no path is trivially zero
    });
    loaded.dispose();
  });

  it('loads a bare safetensors file with a config', () => {
    const loaded = loadModel(join(saved, 'model.safetensors'), { config: MIGE_TINY });
    expect(sameTensors(modelTensors(loaded), modelTensors(model))).toEqual([]);
    loaded.dispose();
    expect(() => loadModel(join(saved, 'model.safetensors'))).toThrow(/a bare weights file needs options\.config/);
  });
});

describe('loadModel errors', () => {
  let model: MigeModel;
  let tmp: { dir: string; cleanup: () => void };
  beforeAll(async () => {
    await useBackend('cpu');
    model = MigeModel.create(MIGE_TINY, { seed: 1 });
    tmp = tempDir();
  });
  afterAll(() => {
    model.dispose();
    tmp.cleanup();
  });

  /** A saved folder whose weights are `edit`ed. */
  function folderWith(name: string, edit?: (t: Map<string, tf.Tensor>) => void): string {
    const dir = join(tmp.dir, name);
    saveModel(model, dir);
    if (edit) {
      const tensors = new Map(modelTensors(model));
      edit(tensors);
      writeSafetensors(join(dir, 'model.safetensors'), new Map([...tensors].map(([k, t]) => [k, { dtype: 'F32' as const, shape: [...t.shape], data: t.dataSync() as Float32Array }])));
    }
    return dir;
  }

  const message = (f: () => unknown): string => {
    try {
      f();
    } catch (e) {
      expect(e).toBeInstanceOf(MigeInputError);
      return (e as Error).message;
    }
    throw new Error('expected an error');
  };

  it('names missing tensors: the first ones and the count', () => {
    const dir = folderWith('missing', (t) => {
      for (const k of [...t.keys()].filter((k) => k.startsWith('blocks.1.'))) t.delete(k);
      t.delete('vae.decoder.conv_out.bias');
    });
    const m = message(() => loadModel(dir));
    const n = [...modelTensors(model).keys()].filter((k) => k.startsWith('blocks.1.')).length + 1;
    expect(m).toMatch(new RegExp(`^${join(dir, 'model.safetensors')}: ${n} tensor\\(s\\) missing: blocks\\.1\\.scale_shift_table, blocks\\.1\\.attn\\.qkv\\.weight, .* … and ${n - 5} more$`));
  });

  it('names a misshapen tensor with both shapes', () => {
    const dir = folderWith('shape', (t) => t.set('vae.quant_conv.bias', tf.zeros([3])));
    expect(message(() => loadModel(dir))).toMatch(/model\.safetensors: tensor vae\.quant_conv\.bias has shape \[3\] but the model expects \[8\]$/);
  });

  it('names unexpected tensors', () => {
    const dir = folderWith('extra', (t) => t.set('head.weight', tf.zeros([2])));
    expect(message(() => loadModel(dir))).toMatch(/1 tensor\(s\) the model does not have: head\.weight$/);
  });

  it('names a corrupt or wrong config.json', () => {
    const dir = folderWith('config');
    writeFileSync(join(dir, 'config.json'), '{ "format": "mige.js-model", ');
    expect(message(() => loadModel(dir))).toMatch(new RegExp(`^${join(dir, 'config.json')}: is not valid JSON`));
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ format: 'diffusers', version: 1, config: MIGE_TINY }));
    expect(message(() => loadModel(dir))).toBe(`${join(dir, 'config.json')}: format is "diffusers", expected "mige.js-model"`);
    const bad = JSON.parse(JSON.stringify(MIGE_TINY)) as { backbone: Record<string, unknown> };
    delete bad.backbone.depth;
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ format: 'mige.js-model', version: 1, config: bad }));
    expect(message(() => loadModel(dir))).toBe(`${join(dir, 'config.json')}: config.backbone.depth is missing`);
    rmSync(join(dir, 'config.json'));
    expect(message(() => loadModel(dir))).toBe(`${join(dir, 'config.json')}: not found: a MIGE.js model folder needs a config.json`);
  });

  it('writeModelConfig writes what readModelConfig reads back', () => {
    const dir = folderWith('rewritten-config');
    const changed = { ...MIGE_TINY, backbone: { ...MIGE_TINY.backbone, patchSize: 1, leweiScale: 2 } };
    writeModelConfig(dir, changed);
    expect(readModelConfig(join(dir, 'config.json'))).toEqual(changed);
    expect(readdirSync(dir).sort()).toEqual(readdirSync(folderWith('plain')).sort());
  });

  it('names a missing tokenizer and missing weights', () => {
    const dir = folderWith('tokenizer');
    rmSync(join(dir, 'tokenizer.json'));
    expect(message(() => loadModel(dir))).toMatch(new RegExp(`^${join(dir, 'tokenizer.json')}: not found: the model needs its tokenizer`));
    const dir2 = folderWith('weights');
    rmSync(join(dir2, 'model.safetensors'));
    expect(message(() => loadModel(dir2))).toMatch(/model\.safetensors: not found: the model folder has no model\.safetensors/);
    expect(message(() => loadModel(join(tmp.dir, 'nope')))).toMatch(/nope: no such model folder or file/);
  });
});
