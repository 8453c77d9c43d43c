import { readFileSync } from 'node:fs';
import { MigeInputError, nn, SafetensorsReader, tf, type EncoderInput, type Latents } from '@mige/core';
import { MIGE_ENCODER_TINY } from '@mige/encoder';
import { FFM_TINY } from '@mige/fusion';
import { SD_VAE_TINY } from '@mige/vae';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIGE_TINY, MIGE_XL, MigeModel, type MigeConfig } from '../../src/model/index.js';
import { expectClose, fixturePath, microConfig, readFixture, sameTensors, TEST_BACKENDS, useBackend } from './helpers.js';

const OFFICIAL_PREFIXES = ['FFM', 'Qformer', 'blocks', 'final_layer', 'ln_vision', 'pos_embed', 'query_tokens', 't5_model', 't5_proj', 't_block', 't_embedder', 'visual_encoder', 'x_embedder', 'y_embedder'];

describe('MigeModel', () => {
  beforeAll(() => useBackend('cpu'));

  it('is deterministic per seed, and seeds differ', () => {
    const a = MigeModel.create(microConfig(), { seed: 3 });
    const b = MigeModel.create(microConfig(), { seed: 3 });
    const c = MigeModel.create(microConfig(), { seed: 4 });
    expect(sameTensors(a.stateDict(), b.stateDict())).toEqual([]);
    expect(sameTensors(a.vae.stateDict(), b.vae.stateDict())).toEqual([]);
    expect(sameTensors(a.stateDict(), c.stateDict()).length).toBeGreaterThan(50);
    for (const m of [a, b, c]) m.dispose();
  });

  it('lists the official names, counts parameters and leaves visual_encoder untrained', () => {
    const m = MigeModel.create(MIGE_TINY);
    const names = [...m.stateDict().keys()];
    expect([...new Set(names.map((k) => k.split('.')[0]))].sort()).toEqual(OFFICIAL_PREFIXES);
    expect(names).toContain('FFM.clip_attn.in_proj_weight');
    expect(names).toContain('t_block.1.weight');
    const counts = m.parameterCounts();
    const size = (ps: [string, tf.Variable][]) => ps.reduce((n, [, p]) => n + p.size, 0);
    expect(counts.encoder + counts.fusion + counts.backbone).toBe(size(m.namedParameters()));
    expect(counts.total).toBe(counts.encoder + counts.fusion + counts.backbone + counts.vae);
    expect(counts.vae).toBe(size(m.vae.namedParameters()));
    const vit = size(m.namedParameters().filter(([k]) => k.startsWith('visual_encoder.')));
    expect(vit).toBeGreaterThan(0);
    expect(counts.trainable).toBe(counts.total - counts.vae - vit);
    expect(m.trainableParameters().some(([k]) => k.startsWith('visual_encoder.'))).toBe(false);
    expect(m.namedParameters().filter(([, p]) => !p.trainable).every(([k]) => k.startsWith('visual_encoder.'))).toBe(true);
    expect(m.latentSize()).toBe(16);
    expect(m.tokenizer.vocabSize).toBe(2100);
    m.dispose();
  });

  it('needs a tokenizer for a vocabulary the shipped one does not fit', () => {
    expect(() => MigeModel.create(MIGE_XL)).toThrow(/needs a tokenizer \(its T5 vocabulary has 32128 tokens; the shipped tiny tokenizer has 2100\)/);
  });

  it('loadStateDict routes official names to encoder, FFM and backbone', () => {
    const src = MigeModel.create(microConfig(), { seed: 1 });
    const dst = MigeModel.create(microConfig(), { seed: 2 });
    const report = dst.loadStateDict(src.stateDict());
    expect(report).toEqual({ missing: [], unexpected: [], mismatched: [] });
    expect(sameTensors(dst.stateDict(), src.stateDict())).toEqual([]);
    // The tied T5 embedding alone (no shared.weight) loads as well.
    const tiedOnly = new Map(src.stateDict());
    tiedOnly.delete('t5_model.shared.weight');
    expect(dst.loadStateDict(tiedOnly).missing).toEqual([]);
    src.dispose();
    dst.dispose();
  });

  it('strict loading names every problem in full and changes nothing', () => {
    const m = MigeModel.create(microConfig(), { seed: 1 });
    const before = new Map([...m.stateDict()].map(([k, t]) => [k, t.clone()]));
    const sd = new Map<string, tf.Tensor>([...MigeModel.create(microConfig(), { seed: 9 }).stateDict()]);
    sd.delete('FFM.mlp.weight');
    sd.delete('blocks.0.attn.qkv.weight');
    sd.set('t_block.1.bias', tf.zeros([5]));
    sd.set('extra.weight', tf.zeros([1]));
    expect(() => m.loadStateDict(sd, { source: 'ckpt.pth' })).toThrow(
      /^ckpt\.pth: .*missing keys: FFM\.mlp\.weight, blocks\.0\.attn\.qkv\.weight; unexpected keys: extra\.weight; shape mismatch for t_block\.1\.bias: expected \[192\], got \[5\]$/,
    );
    expect(sameTensors(m.stateDict(), before)).toEqual([]);
    const report = m.loadStateDict(sd, { strict: false });
    expect(report.missing).toEqual(['FFM.mlp.weight', 'blocks.0.attn.qkv.weight']);
    expect(report.unexpected).toEqual(['extra.weight']);
    expect(report.mismatched).toEqual([{ key: 't_block.1.bias', expected: [192], actual: [5] }]);
    // Non-strict: everything else was loaded, the problem tensors kept their values.
    const changed = sameTensors(m.stateDict(), before);
    expect(changed).not.toContain('FFM.mlp.weight');
    expect(changed).toContain('FFM.clip_attn.in_proj_weight');
    expect(changed).toContain('visual_encoder.cls_token');
    expect(changed).toContain('blocks.0.attn.proj.weight');
    m.dispose();
  });
});

/** mige_encoder_e2e's sizes as a MigeConfig: its DiT is only the x_embedder, the rest stays unloaded. */
const E2E: MigeConfig = {
  name: 'e2e-fixture',
  imageSize: 16,
  encoder: MIGE_ENCODER_TINY,
  fusion: { type: 'ffm', ffm: FFM_TINY },
  backbone: { ...MIGE_TINY.backbone, inputSize: 8, depth: 1 },
  vae: SD_VAE_TINY,
  frozen: ['visual_encoder.'],
};

describe.each(TEST_BACKENDS)('the assembled encoder path vs mige_encoder_e2e on %s', (backend) => {
  let model: MigeModel;
  let io: Map<string, tf.Tensor>;
  beforeAll(async () => {
    await useBackend(backend);
    io = readFixture('mige_encoder_e2e/io.safetensors');
    model = MigeModel.build(E2E, undefined, false);
  });
  afterAll(() => model.dispose());

  it('loads MIGE-named weights (with position_ids and the tied T5 key) and reproduces text_encoder_embs', () => {
    const reader = SafetensorsReader.open(fixturePath('mige_encoder_e2e/weights.safetensors'));
    let report: nn.LoadReport;
    try {
      report = model.loadStateDict(reader, { strict: false });
    } finally {
      reader.close();
    }
    expect(report.unexpected).toEqual([]);
    expect(report.mismatched).toEqual([]);
    // Only the backbone beyond its patch embedder is absent from the fixture.
    const backboneOnly = [...model.backbone.module.stateDict().keys()].filter((k) => !k.startsWith('x_embedder.'));
    expect(report.missing.sort()).toEqual(backboneOnly.sort());

    const cfg = JSON.parse(readFileSync(fixturePath('mige_encoder_e2e/config.json'), 'utf8')) as { prompts: string[]; images_per_prompt: number[] };
    const batch: EncoderInput[] = cfg.prompts.map((text, b) => {
      const n = cfg.images_per_prompt[b] as number;
      return {
        text,
        images: tf.reshape(tf.slice(io.get('ref_clip') as tf.Tensor, [b, 0, 0, 0, 0], [1, n, 3, 28, 28]), [n, 3, 28, 28]) as tf.Tensor4D,
        latents: tf.reshape(tf.slice(io.get('ref_vae') as tf.Tensor, [b, 0, 0, 0, 0], [1, n, 4, 8, 8]), [n, 4, 8, 8]) as Latents,
      };
    });
    const { y, mask } = model.encoder.encode(batch, { fusion: model.fusion, patchEmbedder: model.backbone.patchEmbedder });
    const d = expectClose(y, io.get('text_encoder_embs') as tf.Tensor, 2e-4, 'text_encoder_embs');
    expect(Array.from(mask.dataSync())).toEqual(Array.from((io.get('batch_attn') as tf.Tensor).dataSync()));
    if (process.env.PARITY_REPORT === '1') console.log(`${backend} model text_encoder_embs max abs diff ${d.toExponential(2)}`);
  });

  it('rejects loading into a wrong config with both shapes', () => {
    const wrong = MigeModel.build({ ...E2E, encoder: { ...MIGE_ENCODER_TINY, qformer: { ...MIGE_ENCODER_TINY.qformer, numQueryTokens: 4 } } }, undefined, false);
    const reader = SafetensorsReader.open(fixturePath('mige_encoder_e2e/weights.safetensors'));
    try {
      expect(() => wrong.loadStateDict(reader)).toThrow(MigeInputError);
      expect(wrong.loadStateDict(reader, { strict: false }).mismatched).toEqual([{ key: 'query_tokens', expected: [1, 4, 48], actual: [1, 8, 48] }]);
    } finally {
      reader.close();
      wrong.dispose();
    }
  });
});
