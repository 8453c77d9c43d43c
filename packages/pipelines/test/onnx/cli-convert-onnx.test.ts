// `mige convert --onnx` (issue 48): MIGE's published pieces (test/data/official, micro sizes)
// streamed into a model folder holding only its ONNX export, which the flow commands then run on
// ONNX Runtime stage by stage.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { decodeImage } from '@mige/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mige, tempDir, writePicture } from '../cli/helpers.js';
import { DATA } from '../model/helpers.js';

const OFFICIAL = join(DATA, '..', 'official');
let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => ({ dir, cleanup } = await tempDir()));
afterAll(() => cleanup());

describe('mige convert --onnx', () => {
  it('converts the pieces by streaming, and edit runs the folder on ONNX Runtime', async () => {
    const out = join(dir, 'mige-micro-onnx');
    const pieces = ['--t5', join(OFFICIAL, 't5'), '--eva', join(OFFICIAL, 'eva_vit_g.pth'), '--blip2', join(OFFICIAL, 'blip2_pretrained.pth'), '--pixart', join(OFFICIAL, 'pixart'), '--mige', join(OFFICIAL, 'mige-part.pth'), '--vae', join(OFFICIAL, 'vae')];
    const r = await mige(['convert', '--config', join(DATA, 'micro-config.json'), ...pieces, '--onnx', '--fp16', '--t5-blocks', '1', '--out', out]);
    expect([r.code, r.stdout]).toEqual([0, `${out} (9 ONNX components, fp16 weights)\n`]);
    expect(r.stderr).toMatch(/^convert: \d+\/\d+ tensors, .* left\n$/m);
    expect(readdirSync(out).sort()).toEqual(['config.json', 'onnx', 'tokenizer.json']);
    expect(readdirSync(join(out, 'onnx')).filter((f) => f.startsWith('t5-encoder')).sort()).toEqual(['t5-encoder.onnx', 't5-encoder.onnx.data']); // the micro T5 has one block

    await writePicture(join(dir, 'source.png'), [200, 30, 30]);
    const png = join(dir, 'edited.png');
    const edit = await mige(['edit', '--model', out, '-i', 'make it blue', '--source', join(dir, 'source.png'), '--steps', '2', '-o', png]);
    expect([edit.code, edit.stderr]).toEqual([0, expect.not.stringMatching(/error/i)]);
    expect((await decodeImage(png)).width).toBe(16);

    const tfjs = await mige(['edit', '--model', out, '-i', 'make it blue', '--source', join(dir, 'source.png'), '--engine', 'tfjs', '-o', join(dir, 'x.png')]);
    expect([tfjs.code, tfjs.stderr]).toEqual([1, `mige edit: error: ${out}: holds only an ONNX export (no model.safetensors): run it with --engine onnx, the default\n`]);
    const device = await mige(['edit', '--model', out, '-i', 'make it blue', '--source', join(dir, 'source.png'), '--device', 'cuda', '--engine', 'tfjs', '-o', join(dir, 'x.png')]);
    expect([device.code, device.stderr]).toEqual([1, "mige edit: error: --device: --device picks ONNX Runtime's execution provider and applies to --engine onnx; TF.js runs on its --backend\n"]);
  });

  it('names options that apply to --onnx only, and leaves no folder on a bad piece', async () => {
    const config = ['--config', join(DATA, 'micro-config.json')];
    const r = await mige(['convert', ...config, '--mige', join(DATA, 'micro-mige.pth'), '--vae', join(OFFICIAL, 'vae'), '--fp16', '--out', join(dir, 'a')]);
    expect([r.code, r.stderr]).toEqual([1, 'mige convert: error: convert: --fp16 and --t5-blocks apply to --onnx\n']);
    const bad = await mige(['convert', ...config, '--mige', join(DATA, 'micro-mige-missing.pth'), '--vae', join(OFFICIAL, 'vae'), '--onnx', '--out', join(dir, 'b')]);
    expect([bad.code, bad.stderr]).toEqual([1, 'mige convert: error: convertCheckpoint: no piece provides 1 tensor(s): t_block.1.weight\n']);
    expect(existsSync(join(dir, 'b'))).toBe(false);
  });
});
