// Every exported component, run in onnxruntime-node, against the tfjs forward of the same tiny
// model (issue 9, part A): fp32 weights within 1e-4 (tfjs on wasm and cpu), fp16 weights within
// FP16_TOL (the weights alone are rounded; the graphs compute in float32), batches 1 and 3
// through one dynamic graph; plus the adaLN-Zero backbone's DiT graph.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkOnnxModel, Rng, tf, type TokenMask, type TokenSequence } from '@mige/core';
import { expectClose, TEST_BACKENDS, useBackend } from '@mige/core/testing';
import type { DitBackbone } from '@mige/dit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIGE_TINY, openModelFolderWeights, saveModel, type MigeModel } from '../../src/index.js';
import { exportModel, ONNX_COMPONENTS, OnnxSessions, type OnnxComponent, type OnnxManifest } from '../../src/onnx/index.js';
import { randn, tinyModelForExport } from './tiny-model.js';

const FP32_TOL = 1e-4;
/** fp16 rounds each weight by up to 2^-11 relative; through these small nets that moves outputs by ~1e-3. */
const FP16_TOL = 2e-2;
const dir = mkdtempSync(join(tmpdir(), 'mige-onnx-export-'));
const report: string[] = [];

let model: MigeModel;
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  console.log(`ONNX (onnxruntime-node, CPU) vs tfjs max abs diffs:\n  ${report.join('\n  ')}`);
});

/** The tfjs forward and random inputs for one component at batch b. */
type Case = { inputs: Record<string, tf.Tensor>; expected: Record<string, tf.Tensor> };
function caseFor(component: OnnxComponent, b: number, rng: Rng): Case {
  const c = model.config;
  const s = c.imageSize, h = model.latentSize();
  const enc = model.encoder.module;
  const q = c.encoder.qformer;
  const n = 1 + (c.encoder.vision.imgSize / c.encoder.vision.patchSize) ** 2;
  switch (component) {
    case 'vae-encoder': {
      const images = randn<tf.Tensor4D>(rng, [b, 3, s, s], 0.5);
      return { inputs: { images }, expected: { moments: model.vae.encodeMoments(images) } };
    }
    case 'vae-decoder': {
      const latents = randn<tf.Tensor4D>(rng, [b, 4, h, h]);
      return { inputs: { latents }, expected: { images: model.vae.decode(latents) } };
    }
    case 'dit': {
      const dit = model.backbone as DitBackbone;
      const l = 7;
      // Partial masks: all valid, a prefix, a single token.
      const valid = [l, 4, 1];
      const mask = tf.tensor2d(Array.from({ length: b * l }, (_, i) => (i % l < (valid[Math.floor(i / l)] as number) ? 1 : 0)), [b, l]);
      const inputs = {
        x: randn<tf.Tensor4D>(rng, [b, 4, h, h]),
        cond: randn<tf.Tensor4D>(rng, [b, 4, h, h]),
        t: tf.tensor1d([999, 10, 500].slice(0, b)),
        y: randn<tf.Tensor3D>(rng, [b, l, dit.captionChannels]),
        mask,
      };
      const out = dit.forward(inputs);
      return { inputs, expected: { eps: out.eps, variance: out.variance as tf.Tensor } };
    }
    case 'vit': {
      const images = randn<tf.Tensor4D>(rng, [b, 3, c.encoder.vision.imgSize, c.encoder.vision.imgSize]);
      return { inputs: { images }, expected: { imageEmbeds: enc.vision.forward(images) } };
    }
    case 'qformer': {
      const imageEmbeds = randn<TokenSequence>(rng, [b, n, q.encoderWidth]);
      return { inputs: { imageEmbeds }, expected: { queryOutput: enc.qformer.forward(imageEmbeds) } };
    }
    case 'ffm': {
      const queryTokens = randn<TokenSequence>(rng, [b, q.numQueryTokens, q.hiddenSize]);
      const latents = randn<tf.Tensor4D>(rng, [b, 4, h, h]);
      return { inputs: { queryTokens, latents }, expected: { fused: model.fusion.fuse(queryTokens, latents, model.backbone.patchEmbedder) } };
    }
    case 't5-proj': {
      const queryOutput = randn<TokenSequence>(rng, [b, q.numQueryTokens, q.hiddenSize]);
      return { inputs: { queryOutput }, expected: { projected: enc.t5Proj.forward(queryOutput) } };
    }
    case 't5-embed': {
      // Every id of the tiny vocabulary's ends and a few in between, in a batch of rows.
      const ids = Array.from({ length: b * 6 }, (_, i) => [0, 1, 7, 1000, c.encoder.t5.vocabSize - 1, 2][i % 6] as number);
      const inputIds = tf.tensor2d(ids, [b, 6]);
      return { inputs: { inputIds }, expected: { embeddings: enc.t5.shared.forward(inputIds) } };
    }
    case 't5-encoder': {
      // 12 of the 32 tokens the export allows, the later rows padded.
      const l = 12;
      const valid = [l, 9, 3];
      const attentionMask = tf.tensor2d(Array.from({ length: b * l }, (_, i) => (i % l < (valid[Math.floor(i / l)] as number) ? 1 : 0)), [b, l]) as TokenMask;
      const inputsEmbeds = randn<TokenSequence>(rng, [b, l, c.encoder.t5.dModel]);
      return { inputs: { inputsEmbeds, attentionMask }, expected: { lastHiddenState: enc.t5.forward({ inputsEmbeds, attentionMask }) } };
    }
  }
}

const RUNS = [
  ...TEST_BACKENDS.map((backend) => ({ backend, dtype: 'fp32' as const, tol: FP32_TOL, how: 'from TF.js' })),
  { backend: 'wasm' as const, dtype: 'fp16' as const, tol: FP16_TOL, how: 'from TF.js' },
  // The streamed export (issue 48): from the saved model folder, tensor by tensor, T5 in one-block parts, staged sessions.
  { backend: 'wasm' as const, dtype: 'fp32' as const, tol: FP32_TOL, how: 'streamed' },
];

describe.each(RUNS)('exportModel with $dtype weights ($how) vs tfjs on $backend', ({ backend, dtype, tol, how }) => {
  const out = join(dir, `${dtype}-${backend}-${how.replace(/\W/g, '')}`);
  let manifest: OnnxManifest;
  let sessions: OnnxSessions;

  beforeAll(async () => {
    await useBackend(backend);
    model = tinyModelForExport(0);
    if (how === 'streamed') {
      const folder = join(dir, 'tiny-folder');
      saveModel(model, folder);
      const { skeleton, weights } = openModelFolderWeights(folder);
      try {
        manifest = exportModel(skeleton, out, { dtype, dynamicBatch: true, weights, externalData: true, t5BlocksPerGraph: 1 });
      } finally {
        weights.close();
      }
      sessions = await OnnxSessions.open(out, { residency: 'staged' });
      return;
    }
    manifest = exportModel(model, out, { dtype, dynamicBatch: true });
    sessions = await OnnxSessions.open(out);
  });
  afterAll(async () => {
    await sessions.release();
    model.dispose();
  });

  it('writes every component and a manifest, each graph passing the structural check', () => {
    expect(Object.keys(manifest.components).sort()).toEqual([...ONNX_COMPONENTS].sort());
    for (const component of ONNX_COMPONENTS) {
      const entry = manifest.components[component];
      const summary = checkOnnxModel(readFileSync(join(out, entry?.file ?? '')), component);
      expect(summary.opset).toBe(17);
      expect(summary.inputs).toEqual(entry?.inputs.map((i) => i.name));
    }
    const json = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as OnnxManifest;
    expect(json.dtype).toBe(dtype);
    expect(json.components.dit?.inputs.map((i) => i.name)).toEqual(['x', 'cond', 't', 'y', 'mask']);
    // The DiT runs on ONNX Runtime's fused operators: Linear as Gemm, attention and GELU each one node.
    const dit = checkOnnxModel(readFileSync(join(out, manifest.components.dit?.file ?? '')), 'dit').opTypes;
    expect(dit).toEqual(expect.arrayContaining(['Gemm', 'MultiHeadAttention', 'FastGelu']));
    for (const op of ['MatMul', 'Softmax']) expect(dit, op).not.toContain(op);
  });

  it.each(ONNX_COMPONENTS)('%s matches the tfjs forward at batch 1 and 3 (one dynamic graph)', async (component) => {
    const rng = new Rng(7);
    for (const b of [1, 3]) {
      const { inputs, expected } = caseFor(component, b, rng);
      const got = (await sessions.run(component, inputs as never)) as Record<string, tf.Tensor>;
      for (const [key, want] of Object.entries(expected)) {
        const actual = got[key];
        expect(actual, `${component}.${key}`).toBeDefined();
        const d = expectClose(actual as tf.Tensor, want, tol, `${dtype} ${component}.${key} (batch ${b})`);
        report.push(`${dtype} ${backend} ${component}.${key} batch ${b}: ${d.toExponential(2)} (|max| ${tf.max(tf.abs(want)).dataSync()[0]?.toFixed(2)})`);
      }
      tf.dispose([...Object.values(inputs), ...Object.values(expected), ...Object.values(got)]);
    }
  });
});

describe('the adaLN-Zero backbone', () => {
  it('exports a DiT graph that matches its tfjs forward', async () => {
    await useBackend('wasm');
    const config = { ...MIGE_TINY, name: 'mige-tiny-adaln', backbone: { ...MIGE_TINY.backbone, type: 'dit-adaln-zero' as const } };
    model = tinyModelForExport(0, config);
    const out = join(dir, 'adaln');
    exportModel(model, out, { dtype: 'fp32', components: ['dit'] });
    const sessions = await OnnxSessions.open(out);
    const { inputs, expected } = caseFor('dit', 3, new Rng(3));
    const got = await sessions.run('dit', inputs as never);
    for (const key of ['eps', 'variance'] as const) {
      const d = expectClose(got[key] as tf.Tensor, expected[key] as tf.Tensor, FP32_TOL, `adaLN-Zero dit.${key}`);
      report.push(`fp32 wasm adaLN-Zero dit.${key} batch 3: ${d.toExponential(2)}`);
    }
    await sessions.release();
    model.dispose();
  });
});
