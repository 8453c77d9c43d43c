// OnnxSessions' checks and exportModel's options: a fixed batch, the T5 length limit, bad input
// and bad folders fail with MigeInputError naming what and where; the written folder holds only
// the finished files.
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MigeInputError, Rng, tf, type TokenMask, type TokenSequence } from '@mige/core';
import { expectClose, useBackend } from '@mige/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MigeModel } from '../../src/index.js';
import { exportModel, OnnxSessions, type OnnxManifest } from '../../src/onnx/index.js';
import { randn, tinyModelForExport } from './tiny-model.js';

const dir = mkdtempSync(join(tmpdir(), 'mige-onnx-sessions-'));
let model: MigeModel;
let manifest: OnnxManifest;
let sessions: OnnxSessions;
const out = join(dir, 'fixed');

beforeAll(async () => {
  await useBackend('wasm');
  model = tinyModelForExport(1);
  manifest = exportModel(model, out, { dtype: 'fp32', dynamicBatch: false, batchSize: 2, t5MaxLength: 8, components: ['t5-proj', 't5-encoder'] });
  sessions = await OnnxSessions.open(out);
});
afterAll(async () => {
  await sessions.release();
  model.dispose();
  rmSync(dir, { recursive: true, force: true });
});

describe('exportModel options', () => {
  it('fixes the batch axis and writes only the finished files', () => {
    expect(manifest.components['t5-proj']?.inputs).toEqual([{ name: 'query_output', type: 'float32', shape: [2, 8, 48] }]);
    expect(manifest.components['t5-encoder']?.inputs[1]).toEqual({ name: 'attention_mask', type: 'float32', shape: [2, 'sequence_length'] });
    expect(manifest.t5MaxLength).toBe(8);
    expect(readdirSync(out).sort()).toEqual(['manifest.json', 't5-encoder.onnx', 't5-proj.onnx']);
  });

  it('runs the fixed batch and rejects another with the input named', async () => {
    const x = randn<TokenSequence>(new Rng(1), [2, 8, 48]);
    const { projected } = await sessions.run('t5-proj', { queryOutput: x });
    expectClose(projected, model.encoder.module.t5Proj.forward(x), 1e-4, 't5-proj at the fixed batch');
    const three = randn<TokenSequence>(new Rng(2), [3, 8, 48]);
    const err: unknown = await sessions.run('t5-proj', { queryOutput: three }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MigeInputError);
    expect(String(err)).toContain("input 'query_output' has shape [3, 8, 48], expected [2, 8, 48]");
  });

  it('takes T5 inputs up to t5MaxLength and names the limit beyond it', async () => {
    const full = randn<TokenSequence>(new Rng(3), [2, 8, 64]);
    const mask = tf.tensor2d([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0], [2, 8]) as TokenMask;
    const { lastHiddenState } = await sessions.run('t5-encoder', { inputsEmbeds: full, attentionMask: mask });
    expectClose(lastHiddenState, model.encoder.module.t5.forward({ inputsEmbeds: full, attentionMask: mask }), 1e-4, 't5 at the maximum length');
    const long = randn<TokenSequence>(new Rng(4), [2, 9, 64]);
    await expect(sessions.run('t5-encoder', { inputsEmbeds: long, attentionMask: tf.ones([2, 9]) as TokenMask })).rejects.toThrow('at most 8 (t5MaxLength)');
  });

  it('names disagreeing symbolic axes and missing inputs', async () => {
    const x = randn<TokenSequence>(new Rng(5), [2, 6, 64]);
    await expect(sessions.run('t5-encoder', { inputsEmbeds: x, attentionMask: tf.ones([2, 5]) as TokenMask })).rejects.toThrow(
      "'sequence_length' is 6 in 'inputs_embeds' but 5 in 'attention_mask'",
    );
    await expect(sessions.run('t5-encoder', { inputsEmbeds: x } as never)).rejects.toThrow("input 'attention_mask' is missing");
    await expect(sessions.run('dit', {} as never)).rejects.toThrow("component 'dit' is not open");
  });

  it('rejects bad options before writing anything', () => {
    expect(() => exportModel(model, join(dir, 'bad'), { dtype: 'bf16' as never })).toThrow("dtype must be 'fp32' or 'fp16'");
    expect(() => exportModel(model, join(dir, 'bad'), { dtype: 'fp32', components: ['unet' as never] })).toThrow('unknown component "unet"');
    expect(() => exportModel(model, join(dir, 'bad'), { dtype: 'fp32', dynamicBatch: false, batchSize: 0 })).toThrow('batchSize must be a positive integer');
  });
});

describe('external weights', () => {
  it('stores the weights in <component>.onnx.data and runs the same', async () => {
    const ext = join(dir, 'external');
    const m = exportModel(model, ext, { dtype: 'fp32', externalData: true, components: ['t5-encoder'] });
    expect(m.components['t5-encoder']?.dataFile).toBe('t5-encoder.onnx.data');
    expect(readdirSync(ext).sort()).toEqual(['manifest.json', 't5-encoder.onnx', 't5-encoder.onnx.data']);
    // The graph file keeps only small constants; the weights (≥ 1 KiB each) are outside.
    expect(statSync(join(ext, 't5-encoder.onnx')).size).toBeLessThan(statSync(join(ext, 't5-encoder.onnx.data')).size / 10);
    const s = await OnnxSessions.open(ext);
    const x = randn<TokenSequence>(new Rng(6), [1, 5, 64]);
    const mask = tf.tensor2d([[1, 1, 1, 0, 0]]) as TokenMask;
    const { lastHiddenState } = await s.run('t5-encoder', { inputsEmbeds: x, attentionMask: mask });
    expectClose(lastHiddenState, model.encoder.module.t5.forward({ inputsEmbeds: x, attentionMask: mask }), 1e-4, 't5 with external weights');
    await s.release();
  });
});

describe('OnnxSessions.open', () => {
  it('names the manifest or the model file that is missing or broken', async () => {
    const empty = join(dir, 'empty');
    await expect(OnnxSessions.open(empty)).rejects.toThrow(join(empty, 'manifest.json'));
    const broken = join(dir, 'broken');
    exportModel(model, broken, { dtype: 'fp32', components: ['t5-proj'] });
    writeFileSync(join(broken, 't5-proj.onnx'), 'not protobuf');
    const err: unknown = await OnnxSessions.open(broken).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MigeInputError);
    expect(String(err)).toContain(join(broken, 't5-proj.onnx'));
    await expect(OnnxSessions.open(broken, { components: ['dit'] })).rejects.toThrow("the manifest has no component 'dit'");
  });
});
