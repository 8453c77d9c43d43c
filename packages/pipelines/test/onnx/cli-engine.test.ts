// `mige export` and the flow commands' --engine (issue 9, part B), as a user runs them: spawned
// `node dist/cli.js` (rebuild with `npx tsup` first). A model folder with an onnx/ export runs on
// ONNX Runtime by default; its images match --engine tfjs within ±1 per PNG channel.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeImage, initBackend, type RgbImage } from '@mige/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { saveModel } from '../../src/model/index.js';
import type { OnnxManifest } from '../../src/onnx/index.js';
import { mige, tempDir, writePicture } from '../cli/helpers.js';
import { tinyModelForExport } from './tiny-model.js';

function maxChannelDiff(a: RgbImage, b: RgbImage): number {
  expect([a.width, a.height]).toEqual([b.width, b.height]);
  return a.data.reduce((m, v, i) => Math.max(m, Math.abs(v - (b.data[i] as number))), 0);
}

describe('mige export and --engine', () => {
  let dir = '';
  let cleanup = async () => {};
  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir());
    await initBackend({ backend: 'wasm', log: null });
    const model = tinyModelForExport(11);
    saveModel(model, join(dir, 'model'));
    model.dispose();
    await writePicture(join(dir, 'src.png'), [200, 30, 30]);
    await writePicture(join(dir, 'subj.png'), [30, 30, 200]);
  });
  afterAll(() => cleanup());

  it('exports into the model folder, and the flows then run on ONNX Runtime with the same images', async () => {
    const model = join(dir, 'model');
    const ex = await mige(['export', '--model', model, '--out', join(model, 'onnx')]);
    expect([ex.code, ex.stderr]).toEqual([0, '']);
    for (const c of ['vae-encoder', 'vae-decoder', 'dit', 'vit', 'qformer', 'ffm', 't5-proj', 't5-encoder']) expect(ex.stdout).toMatch(new RegExp(`^${c} +${c}\\.onnx \\(`, 'm'));
    const manifest = JSON.parse(readFileSync(join(model, 'onnx', 'manifest.json'), 'utf8')) as OnnxManifest;
    expect([manifest.dtype, manifest.dynamicBatch, manifest.config.name]).toEqual(['fp32', true, 'mige-tiny']);

    const args = ['--model', model, '--steps', '3', '--seed', '2'];
    for (const [flow, extra] of [
      ['edit', ['-i', 'make the block green', '--source', join(dir, 'src.png')]],
      ['compose', ['-i', 'in <imagehere>, replace the block with <imagehere>', '--source', join(dir, 'src.png'), '--subject', join(dir, 'subj.png')]],
    ] as const) {
      const ort = await mige([flow, ...args, ...extra, '-o', join(dir, `${flow}-ort.png`)]);
      expect([ort.code, ort.stderr]).toEqual([0, expect.not.stringMatching(/error/i)]);
      const tfjs = await mige([flow, ...args, ...extra, '--engine', 'tfjs', '-o', join(dir, `${flow}-tfjs.png`)]);
      expect(tfjs.code).toBe(0);
      // The same warnings (compose's prompt is cut at mige-tiny's 32 tokens by both engines).
      expect(ort.stderr).toBe(tfjs.stderr);
      const sidecar = (name: string): { engine: string } => JSON.parse(readFileSync(join(dir, `${name}.json`), 'utf8')) as { engine: string };
      expect([sidecar(`${flow}-ort`).engine, sidecar(`${flow}-tfjs`).engine]).toEqual(['onnx', 'tfjs']);
      const diff = maxChannelDiff(await decodeImage(join(dir, `${flow}-ort.png`)), await decodeImage(join(dir, `${flow}-tfjs.png`)));
      console.log(`mige ${flow}: ORT vs tfjs max PNG channel diff ${diff}`);
      expect(diff).toBeLessThanOrEqual(1);
    }
  });

  it('eval runs an exported model folder on ONNX Runtime too, with the scores of --engine tfjs', async () => {
    // Runs after the export test above, which writes model/onnx.
    const model = join(dir, 'model');
    expect(existsSync(join(model, 'onnx', 'manifest.json'))).toBe(true);
    const args = ['eval', '--model', model, '--steps', '2', '--count', '1', '--tasks', 'recolor,compose_add'];
    const ort = await mige([...args, '--out', join(dir, 'eval-ort')]);
    const tfjs = await mige([...args, '--engine', 'tfjs', '--out', join(dir, 'eval-tfjs')]);
    for (const r of [ort, tfjs]) expect([r.code, r.stderr]).toEqual([0, expect.not.stringMatching(/error/i)]);
    expect([ort.stdout, tfjs.stdout]).toEqual([expect.stringMatching(/^2 cases \(onnx\): L1/), expect.stringMatching(/^2 cases \(tfjs\): L1/)]);
    const l2 = (name: string) => (JSON.parse(readFileSync(join(dir, name, 'report.json'), 'utf8')) as { overall: { metrics: { l2: number } } }).overall.metrics.l2;
    expect(l2('eval-ort')).toBeGreaterThan(0);
    expect(Math.abs(l2('eval-ort') - l2('eval-tfjs'))).toBeLessThan(1e-4);
    const none = await mige(['eval', '--model', 'mige-tiny', '--count', '1', '--tasks', 'recolor', '--engine', 'onnx', '--out', join(dir, 'eval-none')]);
    expect([none.code, none.stderr]).toEqual([1, expect.stringMatching(/^mige eval: error: preset mige-tiny: --engine onnx needs the model's ONNX export/)]);
  });

  it('--engine onnx without an export, and a bad --engine, fail with one line naming the fix', async () => {
    const none = await mige(['generate', '--model', 'mige-tiny', '--steps', '1', '-i', 'a red circle', '--engine', 'onnx', '-o', join(dir, 'x.png')]);
    expect([none.code, none.stderr]).toEqual([1, expect.stringMatching(/^mige generate: error: preset mige-tiny: --engine onnx needs the model's ONNX export in onnx\/; make it with "mige export/)]);
    const bad = await mige(['generate', '--model', 'mige-tiny', '-i', 'x', '--engine', 'ort']);
    expect([bad.code, bad.stderr]).toEqual([1, expect.stringMatching(/--engine: must be one of tfjs, onnx, got "ort"/)]);
    expect(existsSync(join(dir, 'x.png'))).toBe(false);
  });

  it('export --fp16 stores half-precision weights; --out is required', async () => {
    const r = await mige(['export', '--model', 'mige-tiny', '--out', join(dir, 'fp16'), '--fp16']);
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect((JSON.parse(readFileSync(join(dir, 'fp16', 'manifest.json'), 'utf8')) as OnnxManifest).dtype).toBe('fp16');
    const missing = await mige(['export', '--model', 'mige-tiny']);
    expect([missing.code, missing.stderr]).toEqual([2, expect.stringMatching(/--out is required/)]);
  });
});
