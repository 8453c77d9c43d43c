// The staged ONNX runtime (issue 48) on mige-tiny: a model folder holding only its ONNX export
// (convertToOnnx, streamed from a saved model folder) runs the flows with one stage's sessions in
// memory at a time (the T5 encoder part by part), giving the images of the in-memory model with
// every session loaded at once.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MigeInputError, tf } from '@mige/core';
import { maxAbsDiff, useBackend } from '@mige/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compose, edit } from '../../src/flows/index.js';
import { loadModel, MIGE_TINY, openModelFolderWeights, saveModel, type MigeConfig, type MigeModel } from '../../src/model/index.js';
import { attachOnnx, convertToOnnx, detachOnnx, exportModel, loadOnnxModel, type OnnxSessionEvent } from '../../src/onnx/index.js';
import { picture } from '../flows/pictures.js';
import { tinyModelForExport } from './tiny-model.js';

/** Room for the compose prompt's task prefix and its two images (engine-parity's config). */
const CONFIG: MigeConfig = { ...MIGE_TINY, name: 'mige-tiny-64', encoder: { ...MIGE_TINY.encoder, maxLength: 64 }, backbone: { ...MIGE_TINY.backbone, modelMaxLength: 64 } };
const dir = mkdtempSync(join(tmpdir(), 'mige-onnx-staged-'));
const converted = join(dir, 'converted');
let model: MigeModel;
let onnxOnly: MigeModel;
const events: OnnxSessionEvent[] = [];

beforeAll(async () => {
  await useBackend('wasm');
  const folder = join(dir, 'model');
  const made = tinyModelForExport(5, CONFIG);
  saveModel(made, folder);
  made.dispose();
  model = loadModel(folder);
  exportModel(model, join(dir, 'all'), { dtype: 'fp32' });
  await attachOnnx(model, join(dir, 'all'));
  await convertToOnnx(openModelFolderWeights(folder), converted, { dtype: 'fp32', t5BlocksPerGraph: 1 });
  onnxOnly = await loadOnnxModel(converted, { onEvent: (e) => events.push(e) });
});
afterAll(async () => {
  await detachOnnx(model);
  await detachOnnx(onnxOnly);
  model.dispose();
  onnxOnly.dispose();
  rmSync(dir, { recursive: true, force: true });
});

const label = (e: OnnxSessionEvent): string => `${e.phase} ${e.component}${e.blocks ? `[${e.blocks.join('-')}]` : ''}`;

describe('a converted model folder (ONNX only) on the staged runtime', () => {
  it('holds config, tokenizer and the export, and no TF.js weights', () => {
    expect(readdirSync(converted).sort()).toEqual(['config.json', 'onnx', 'tokenizer.json']);
    expect(onnxOnly.hasWeights()).toBe(false);
    expect(() => loadModel(converted)).toThrow(/has no model\.safetensors \(it holds only an ONNX export: load it with loadOnnxModel/);
  });

  it.each([
    ['edit', (m: MigeModel) => edit(m, { instruction: 'make the square blue', source: picture(6) }, { steps: 3, seed: 2 })],
    ['compose', (m: MigeModel) => compose(m, { instruction: 'in <imagehere>, replace the square with <imagehere>', source: picture(9), subjects: [picture(10)] }, { steps: 3, seed: 3 })],
  ] as const)('%s: the images of the in-memory model, each stage loaded once and released before the next', async (_, run) => {
    const want = await run(model);
    events.length = 0;
    const got = await run(onnxOnly);
    expect(got.images.map((i) => i.params.engine)).toEqual(['onnx']);
    expect(maxAbsDiff(got.tensor, want.tensor)).toBe(0);
    // Loads in flow order, each component once (the DiT for all 3 steps), T5 part by part.
    const loads = events.filter((e) => e.phase === 'load').map(label);
    expect(loads).toEqual(['load vae-encoder', 'load vit', 'load qformer', 'load ffm', 'load t5-proj', 'load t5-embed', 'load t5-encoder[0-1]', 'load t5-encoder[1-2]', 'load dit', 'load vae-decoder']);
    expect(events.filter((e) => e.phase === 'run' && e.component === 'dit')).toHaveLength(3);
    // Never two sessions at once: every load but a first one comes right after a release (the
    // VAE decoder of an earlier flow stays until the next flow starts).
    const loadsAndReleases = events.filter((e) => e.phase !== 'run');
    loadsAndReleases.forEach((e, i) => {
      if (e.phase === 'load' && i > 0) expect(loadsAndReleases[i - 1]?.phase, label(e)).toBe('release');
    });
    tf.dispose([want.tensor, got.tensor]);
  });

  it('refuses the TF.js engine and previews with one line naming why', async () => {
    const request = { instruction: 'make the square blue', source: picture(6) };
    await expect(edit(onnxOnly, request, { engine: 'tfjs', steps: 1 })).rejects.toThrow(MigeInputError);
    await expect(edit(onnxOnly, request, { engine: 'tfjs', steps: 1 })).rejects.toThrow("FlowOptions.engine: model 'mige-tiny-64' has no TF.js weights (its folder holds only an ONNX export): run it with engine 'onnx'");
    await expect(edit(onnxOnly, request, { steps: 2, previewEvery: 1, onStep: () => undefined })).rejects.toThrow(/previews need the model's TF\.js weights/);
  });
});

