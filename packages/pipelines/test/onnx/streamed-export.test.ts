// The streamed ONNX export (issue 48): a model's graphs built from its skeleton (shape-only
// parameters) with the weights read tensor by tensor from checkpoint files are the same files,
// byte for byte, as today's export of the model loaded in TF.js: for mige-tiny, the shipped
// mige-world model, and every source layout of MIGE's published pieces (test/data/official,
// made by gen_official_layouts.py). A conversion stopped midway leaves nothing behind.
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { float16BitsToFloat32, float32ToFloat16Bits, MigeAbortError, MigeInputError, readSafetensors, Rng, tf, type OnnxParamSource } from '@mige/core';
import { useBackend } from '@mige/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  convertCheckpoint,
  defaultModelDir,
  loadDefaultModel,
  loadModel,
  MigeModel,
  openCheckpointWeights,
  openModelFolderWeights,
  saveModel,
  tinyTokenizerPath,
  type ConvertSources,
  type ModelWeights,
} from '../../src/model/index.js';
import { convertToOnnx, exportModel, OnnxSessions, type ExportOnnxOptions } from '../../src/onnx/index.js';
import { DATA, microConfig } from '../model/helpers.js';
import { randn, tinyModelForExport } from './tiny-model.js';

const OFFICIAL = join(DATA, '..', 'official');
const dir = mkdtempSync(join(tmpdir(), 'mige-onnx-streamed-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeAll(() => useBackend('cpu'));

/** Every file of two folders (recursively) by name; the names and bytes must agree. */
function expectSameFolders(a: string, b: string): number {
  const files = (d: string): string[] => readdirSync(d, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name).slice(d.length + 1)).sort();
  const names = files(a);
  expect(files(b)).toEqual(names);
  let bytes = 0;
  for (const name of names) {
    const x = readFileSync(join(a, name));
    expect(x.equals(readFileSync(join(b, name))), `${name} differs`).toBe(true);
    bytes += x.byteLength;
  }
  return bytes;
}

/** Exports `model` from its own tensors, and its skeleton with `streamed` weights, with the same options. */
function exportBoth(model: MigeModel, streamed: { skeleton: MigeModel; weights: ModelWeights }, name: string, options: ExportOnnxOptions): { memory: string; stream: string } {
  const memory = join(dir, `${name}-memory`), stream = join(dir, `${name}-stream`);
  exportModel(model, memory, options);
  try {
    expect(streamed.skeleton.hasWeights()).toBe(false);
    exportModel(streamed.skeleton, stream, { ...options, weights: streamed.weights });
  } finally {
    streamed.weights.close();
  }
  return { memory, stream };
}

describe('streamed export of a MIGE.js model folder', () => {
  let model: MigeModel;
  const folder = join(dir, 'tiny-model');
  beforeAll(() => {
    const made = tinyModelForExport(4);
    saveModel(made, folder);
    made.dispose();
    // Today's export: the folder's model loaded into TF.js.
    model = loadModel(folder);
  });
  afterAll(() => model.dispose());

  it.each([
    { label: 'fp32, weights inline', options: { dtype: 'fp32' } },
    { label: 'fp32, external data, T5 in one-block parts', options: { dtype: 'fp32', externalData: true, t5BlocksPerGraph: 1 } },
    { label: 'fp16, external data', options: { dtype: 'fp16', externalData: true } },
  ] as { label: string; options: ExportOnnxOptions }[])('mige-tiny, $label: the same files as the in-memory export', ({ label, options }) => {
    const { memory, stream } = exportBoth(model, openModelFolderWeights(folder), label.replace(/\W+/g, '-'), options);
    expect(expectSameFolders(memory, stream)).toBeGreaterThan(model.parameterCounts().total * (options.dtype === 'fp16' ? 2 : 4));
    if (options.t5BlocksPerGraph === 1) expect(readdirSync(stream).filter((f) => f.startsWith('t5-encoder-blocks-')).sort()).toEqual(['t5-encoder-blocks-0-1.onnx', 't5-encoder-blocks-0-1.onnx.data', 't5-encoder-blocks-1-2.onnx', 't5-encoder-blocks-1-2.onnx.data']);
  });

  it('gives the same outputs in ONNX Runtime, the split T5 encoder included', async () => {
    const { memory, stream } = exportBoth(model, openModelFolderWeights(folder), 'outputs', { dtype: 'fp32', externalData: true, t5BlocksPerGraph: 1 });
    const a = await OnnxSessions.open(memory), b = await OnnxSessions.open(stream, { residency: 'staged' });
    const rng = new Rng(11);
    const c = model.config, h = model.latentSize();
    const inputsEmbeds = randn<tf.Tensor3D>(rng, [2, 9, c.encoder.t5.dModel]);
    const attentionMask = tf.tensor2d([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0], [2, 9]);
    const x = randn<tf.Tensor4D>(rng, [2, 4, h, h]), cond = randn<tf.Tensor4D>(rng, [2, 4, h, h]), y = randn<tf.Tensor3D>(rng, [2, 5, c.backbone.captionChannels]);
    const dit = { x, cond, t: tf.tensor1d([3, 700]), y, mask: tf.ones([2, 5]) as tf.Tensor2D };
    for (const run of [(s: OnnxSessions) => s.run('t5-encoder', { inputsEmbeds, attentionMask }).then((o) => o.lastHiddenState), (s: OnnxSessions) => s.run('dit', dit).then((o) => o.eps)]) {
      const [p, q] = [await run(a), await run(b)];
      expect(Array.from(q.dataSync())).toEqual(Array.from(p.dataSync()));
      tf.dispose([p, q]);
    }
    // The split encoder equals the tfjs forward as the whole one does (export-parity's tolerance).
    const { lastHiddenState } = await b.run('t5-encoder', { inputsEmbeds, attentionMask });
    const want = model.encoder.module.t5.forward({ inputsEmbeds, attentionMask });
    expect(tf.max(tf.abs(tf.sub(lastHiddenState, want))).dataSync()[0]).toBeLessThan(1e-4);
    await Promise.all([a.release(), b.release()]);
  });
});

describe('streamed export of the shipped mige-world model', () => {
  it('gives the same files as loading it in TF.js and exporting, fp32 and fp16', async () => {
    const model = await loadDefaultModel();
    try {
      for (const dtype of ['fp32', 'fp16'] as const) {
        const { memory, stream } = exportBoth(model, openModelFolderWeights(defaultModelDir()), `world-${dtype}`, { dtype, externalData: true });
        expect(expectSameFolders(memory, stream)).toBeGreaterThan(model.parameterCounts().total * (dtype === 'fp16' ? 2 : 4));
        rmSync(memory, { recursive: true });
        rmSync(stream, { recursive: true });
      }
    } finally {
      model.dispose();
    }
  });
});

describe("streamed conversion from each layout of MIGE's published pieces", () => {
  const vae = join(OFFICIAL, 'vae');
  const cases: { label: string; sources: Omit<ConvertSources, 'config'> }[] = [
    { label: "model.pth {'state_dict'} fp32 (tied T5 key, Q-Former position_ids) + VAE .bin with pre-0.14 names", sources: { mige: join(DATA, 'micro-mige.pth'), vae } },
    { label: 'model.pth flat fp16 + VAE', sources: { mige: join(DATA, 'micro-mige-flat-fp16.pth'), vae } },
    {
      label: 'HF T5 sharded safetensors + eva_vit_g.pth (flat fp16) + LAVIS BLIP-2 ({model}) + diffusers PixArt folder + MIGE part + VAE',
      sources: {
        t5: join(OFFICIAL, 't5'), eva: join(OFFICIAL, 'eva_vit_g.pth'), blip2: join(OFFICIAL, 'blip2_pretrained.pth'), pixart: join(OFFICIAL, 'pixart'),
        mige: join(OFFICIAL, 'mige-part.pth'), vae,
      },
    },
  ];

  it.each(cases)('$label: the same files as convertCheckpoint then exportModel', ({ label, sources }) => {
    const all: ConvertSources = { config: microConfig(), tokenizer: tinyTokenizerPath(), ...sources };
    const model = convertCheckpoint(all);
    try {
      const { memory, stream } = exportBoth(model, openCheckpointWeights(all), label.slice(0, 20).replace(/\W+/g, '-'), { dtype: 'fp32', externalData: true, t5BlocksPerGraph: 1 });
      expect(expectSameFolders(memory, stream)).toBeGreaterThan(model.parameterCounts().total * 4);
    } finally {
      model.dispose();
    }
  });

  it('reads the pieces to the values they hold (shards, fp16, widened x_embedder, legacy VAE names)', () => {
    const model = convertCheckpoint({ config: microConfig(), tokenizer: tinyTokenizerPath(), ...(cases[2] as (typeof cases)[2]).sources });
    try {
      const state = readSafetensors(join(DATA, 'micro-state.safetensors'));
      const got = model.stateDict();
      const value = (k: string): Float32Array => got.get(k)?.dataSync() as Float32Array;
      for (const k of ['t5_model.shared.weight', 't5_model.encoder.block.0.layer.1.DenseReluDense.wo.weight', 'Qformer.bert.encoder.layer.0.attention.self.query.weight', 'FFM.q_proj_1.weight', 'blocks.0.attn.qkv.weight', 'y_embedder.y_embedding']) {
        expect(Array.from(value(k)), k).toEqual(Array.from(state.get(k)?.data ?? []));
      }
      // eva_vit_g.pth is fp16: the values are the reference's rounded to half precision.
      const vit = state.get('visual_encoder.blocks.0.mlp.fc1.weight')?.data as Float32Array;
      expect(Array.from(value('visual_encoder.blocks.0.mlp.fc1.weight'))).toEqual(Array.from(float32ToFloat16Bits(vit), float16BitsToFloat32));
      const x = state.get('x_embedder.proj.weight') as { shape: number[]; data: Float32Array };
      const [hidden, wide, p, q] = x.shape as [number, number, number, number];
      const widened = value('x_embedder.proj.weight');
      for (let o = 0; o < hidden; o++) {
        const row = widened.subarray(o * wide * p * q, (o + 1) * wide * p * q);
        expect(Array.from(row.subarray(0, (wide / 2) * p * q))).toEqual(Array.from(x.data.subarray(o * wide * p * q, o * wide * p * q + (wide / 2) * p * q)));
        expect(row.subarray((wide / 2) * p * q).every((v) => v === 0)).toBe(true);
      }
      const vaeState = readSafetensors(join(OFFICIAL, 'micro-vae.safetensors'));
      for (const [k, t] of model.vae.stateDict()) expect(Array.from(t.dataSync()), k).toEqual(Array.from(vaeState.get(k)?.data ?? []));
    } finally {
      model.dispose();
    }
  });

  it('reports what no piece provides, by name, before writing anything', () => {
    const out = join(dir, 'incomplete');
    expect(() => openCheckpointWeights({ config: microConfig(), tokenizer: tinyTokenizerPath(), t5: join(OFFICIAL, 't5'), vae })).toThrow(/^convertCheckpoint: no piece provides \d+ tensor\(s\): /);
    expect(existsSync(out)).toBe(false);
  });
});

describe('a conversion stopped midway', () => {
  const sources = (): ConvertSources => ({ config: microConfig(), tokenizer: tinyTokenizerPath(), mige: join(DATA, 'micro-mige.pth'), vae: join(OFFICIAL, 'vae') });
  const leftovers = (): string[] => readdirSync(dir).filter((f) => f.includes('converted'));

  it('by its AbortSignal leaves no model folder and no temp folder', async () => {
    const controller = new AbortController();
    const out = join(dir, 'converted-aborted');
    let events = 0;
    const run = convertToOnnx(openCheckpointWeights(sources()), out, {
      dtype: 'fp32',
      signal: controller.signal,
      onProgress: (e) => {
        events = e.step;
        if (e.step === 20) controller.abort();
      },
    });
    await expect(run).rejects.toBeInstanceOf(MigeAbortError);
    expect(events).toBe(20);
    expect(leftovers()).toEqual([]);
  });

  it('by a failing read leaves no model folder and no temp folder', async () => {
    const opened = openCheckpointWeights(sources());
    let reads = 0;
    const failing = (source: OnnxParamSource): OnnxParamSource => ({
      read(name, shape) {
        if (++reads === 30) throw new MigeInputError('read failed (test)', name);
        return source.read(name, shape);
      },
    });
    const weights = { mige: failing(opened.weights.mige), vae: failing(opened.weights.vae), close: () => opened.weights.close() };
    await expect(convertToOnnx({ skeleton: opened.skeleton, weights }, join(dir, 'converted-failed'), { dtype: 'fp16' })).rejects.toThrow('read failed (test)');
    expect(reads).toBe(30);
    expect(leftovers()).toEqual([]);
  });

  it('into an existing folder is refused before anything is read', async () => {
    const out = join(dir, 'converted-exists');
    saveModel(MigeModel.create(microConfig()), out);
    const before = readdirSync(out).sort();
    await expect(convertToOnnx(openCheckpointWeights(sources()), out, { dtype: 'fp32' })).rejects.toThrow(/already exists: convert into a new folder$/);
    expect(readdirSync(out).sort()).toEqual(before);
    rmSync(out, { recursive: true });
  });
});
