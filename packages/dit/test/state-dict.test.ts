// State-dict names, round trips, load reports, and the checkpoint layouts of src/dit-keys.ts.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MigeInputError, nn, SafetensorsReader, serializeSafetensors, tf, writeSafetensors, type Latents, type TokenMask, type TokenSequence, type WritableTensor } from '@mige/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBackbone, ditKeysOfMigeCheckpoint, DIT_ADALN_ZERO_TINY, fromDiffusersPixArt, MIGE_TINY, type DitBackbone } from '../src/index.js';
import { expectClose, get, randomizeParameters, readFixture, useBackend } from './helpers.js';

const asWritable = (sd: Map<string, tf.Tensor>) =>
  new Map<string, WritableTensor>([...sd].map(([k, t]) => [k, { dtype: 'F32', shape: [...t.shape], data: t.dataSync() as Float32Array }]));

const emptyModel = () => nn.withoutInit(() => createBackbone(MIGE_TINY));

describe('state dict', () => {
  let weights: Map<string, tf.Tensor>;
  let io: Map<string, tf.Tensor>;
  let tmp: string;

  beforeAll(async () => {
    await useBackend('wasm');
    weights = readFixture('dit/weights.safetensors');
    io = readFixture('dit/io.safetensors');
    tmp = mkdtempSync(join(tmpdir(), 'mige-dit-'));
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  /** The fixture's forward: a loaded model must reproduce `out`. */
  const expectFixtureOutput = (backbone: DitBackbone) => {
    const { eps, variance } = backbone.forward({
      x: get<Latents>(io, 'x'),
      cond: get<Latents>(io, 'source'),
      t: get<tf.Tensor1D>(io, 'timestep'),
      y: tf.squeeze(get(io, 'y'), [1]) as TokenSequence,
      mask: get<TokenMask>(io, 'mask'),
    });
    expectClose(tf.concat([eps, variance as tf.Tensor], 1), get(io, 'out'), 1e-4, 'out');
  };

  it('has exactly the official checkpoint names and shapes (PixArt)', () => {
    const sd = emptyModel().module.stateDict();
    expect([...sd.keys()].sort()).toEqual([...weights.keys()].sort());
    for (const [k, t] of sd) expect(t.shape, k).toEqual(get(weights, k).shape);
  });

  it('names the adaLN-Zero backbone after facebookresearch/DiT', () => {
    const keys = [...nn.withoutInit(() => createBackbone(DIT_ADALN_ZERO_TINY)).module.stateDict().keys()];
    expect(keys).toContain('blocks.1.adaLN_modulation.1.weight');
    expect(keys).toContain('final_layer.adaLN_modulation.1.bias');
    expect(keys).toContain('blocks.0.cross_attn.kv_linear.weight');
    expect(keys.filter((k) => k.includes('scale_shift_table') || k.startsWith('t_block'))).toEqual([]);
  });

  it('round-trips through safetensors bit for bit', () => {
    const a = createBackbone(MIGE_TINY);
    randomizeParameters(a.module, 'round-trip');
    const reader = SafetensorsReader.fromBuffer(serializeSafetensors(asWritable(a.module.stateDict())));
    const b = emptyModel();
    expect(b.module.loadStateDict(reader)).toEqual({ missing: [], unexpected: [], mismatched: [] });
    for (const [k, t] of a.module.stateDict()) expectClose(get(b.module.stateDict(), k), t, 0, k);
  });

  it('reports every missing, unexpected and misshapen key by name', () => {
    const sd = new Map<string, nn.StateDictValue>(weights);
    sd.delete('blocks.1.mlp.fc2.bias');
    sd.set('blocks.2.attn.qkv.weight', tf.zeros([192, 64]));
    sd.set('final_layer.linear.weight', tf.zeros([16, 64]));
    const model = emptyModel().module;
    expect(() => model.loadStateDict(sd)).toThrow(MigeInputError);
    expect(() => model.loadStateDict(sd)).toThrow(
      /missing keys: blocks\.1\.mlp\.fc2\.bias; unexpected keys: blocks\.2\.attn\.qkv\.weight; shape mismatch for final_layer\.linear\.weight: expected \[32,64\], got \[16,64\]/,
    );
    expect(model.loadStateDict(sd, { strict: false })).toEqual({
      missing: ['blocks.1.mlp.fc2.bias'],
      unexpected: ['blocks.2.attn.qkv.weight'],
      mismatched: [{ key: 'final_layer.linear.weight', expected: [32, 64], actual: [16, 64] }],
    });
  });

  it('loads the DiT part of a whole MIGE checkpoint', () => {
    const sd = new Map<string, nn.StateDictValue>(weights);
    sd.set('FFM.mlp.weight', tf.zeros([48, 48]));
    sd.set('t5_proj.weight', tf.zeros([64, 48]));
    const model = emptyModel();
    expect(model.module.loadStateDict(ditKeysOfMigeCheckpoint(sd)).unexpected).toEqual([]);
    expectFixtureOutput(model);
  });

  describe('diffusers PixArtTransformer2DModel layout', () => {
    /** The fixture weights as diffusers' conversion script lays them out (pos_embed is not saved). */
    function toDiffusers(withNullCaption: boolean): Map<string, tf.Tensor> {
      const out = new Map<string, tf.Tensor>();
      const put = (k: string, from: string) => out.set(k, get(weights, from));
      put('pos_embed.proj.weight', 'x_embedder.proj.weight');
      put('pos_embed.proj.bias', 'x_embedder.proj.bias');
      if (withNullCaption) put('caption_projection.y_embedding', 'y_embedder.y_embedding');
      for (const wb of ['weight', 'bias']) {
        put(`adaln_single.emb.timestep_embedder.linear_1.${wb}`, `t_embedder.mlp.0.${wb}`);
        put(`adaln_single.emb.timestep_embedder.linear_2.${wb}`, `t_embedder.mlp.2.${wb}`);
        put(`adaln_single.linear.${wb}`, `t_block.1.${wb}`);
        put(`caption_projection.linear_1.${wb}`, `y_embedder.y_proj.fc1.${wb}`);
        put(`caption_projection.linear_2.${wb}`, `y_embedder.y_proj.fc2.${wb}`);
        put(`proj_out.${wb}`, `final_layer.linear.${wb}`);
        for (const i of [0, 1]) {
          const [d, o] = [`transformer_blocks.${i}`, `blocks.${i}`];
          const [q, k, v] = tf.split(get(weights, `${o}.attn.qkv.${wb}`), 3, 0) as [tf.Tensor, tf.Tensor, tf.Tensor];
          out.set(`${d}.attn1.to_q.${wb}`, q).set(`${d}.attn1.to_k.${wb}`, k).set(`${d}.attn1.to_v.${wb}`, v);
          put(`${d}.attn1.to_out.0.${wb}`, `${o}.attn.proj.${wb}`);
          put(`${d}.attn2.to_q.${wb}`, `${o}.cross_attn.q_linear.${wb}`);
          const [k2, v2] = tf.split(get(weights, `${o}.cross_attn.kv_linear.${wb}`), 2, 0) as [tf.Tensor, tf.Tensor];
          out.set(`${d}.attn2.to_k.${wb}`, k2).set(`${d}.attn2.to_v.${wb}`, v2);
          put(`${d}.attn2.to_out.0.${wb}`, `${o}.cross_attn.proj.${wb}`);
          put(`${d}.ff.net.0.proj.${wb}`, `${o}.mlp.fc1.${wb}`);
          put(`${d}.ff.net.2.${wb}`, `${o}.mlp.fc2.${wb}`);
        }
      }
      put('scale_shift_table', 'final_layer.scale_shift_table');
      for (const i of [0, 1]) put(`transformer_blocks.${i}.scale_shift_table`, `blocks.${i}.scale_shift_table`);
      return out;
    }

    it('loads a diffusers file: qkv and kv concatenated at read time, pos_embed computed', () => {
      const path = join(tmp, 'diffusion_pytorch_model.safetensors');
      writeSafetensors(path, asWritable(toDiffusers(true)));
      const reader = SafetensorsReader.open(path);
      const model = emptyModel();
      expect(model.module.loadStateDict(fromDiffusersPixArt(reader, MIGE_TINY))).toEqual({ missing: [], unexpected: [], mismatched: [] });
      reader.close();
      for (const [k, t] of model.module.stateDict()) expectClose(t, get(weights, k), 0, k);
      expectFixtureOutput(model);
    });

    it('reports what diffusers lacks or cannot be assembled', () => {
      const sd = toDiffusers(false);
      sd.delete('transformer_blocks.1.attn1.to_v.weight');
      sd.set('adaln_single.emb.resolution_embedder.linear_1.weight', tf.zeros([64, 256]));
      const report = emptyModel().module.loadStateDict(fromDiffusersPixArt(sd, MIGE_TINY), { strict: false });
      expect(report.missing.sort()).toEqual(['blocks.1.attn.qkv.weight', 'y_embedder.y_embedding']);
      expect(report.unexpected.sort()).toEqual([
        'adaln_single.emb.resolution_embedder.linear_1.weight',
        'transformer_blocks.1.attn1.to_k.weight',
        'transformer_blocks.1.attn1.to_q.weight',
      ]);
    });
  });
});
