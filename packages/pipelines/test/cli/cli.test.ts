import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { decodeImage, initBackend, writableFromTensors, writeSafetensors } from '@mige/core';
import { toDiffusersVaeConfig } from '@mige/vae';
import { MigeModel } from '../../src/model/index.js';
import { DATA, microConfig } from '../model/helpers.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mige, tempDir, writePicture } from './helpers.js';

const TINY = ['--model', 'mige-tiny', '--steps', '2'];

describe('the mige command line', () => {
  let dir = '';
  let cleanup = async () => {};
  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir());
    await writePicture(join(dir, 'src.png'), [200, 30, 30]);
    await writePicture(join(dir, 'subj.png'), [30, 30, 200]);
  });
  afterAll(() => cleanup());

  it('prints usage, per-command help and the version', async () => {
    const top = await mige(['--help']);
    expect(top.code).toBe(0);
    for (const c of ['generate', 'edit', 'compose', 'train', 'eval', 'convert', 'info']) expect(top.stdout).toContain(`  ${c}`);
    for (const c of ['generate', 'edit', 'compose', 'train', 'eval', 'convert', 'info']) {
      const h = await mige([c, '--help']);
      expect([c, h.code]).toEqual([c, 0]);
      expect(h.stdout).toMatch(new RegExp(`^Usage: mige ${c}`));
    }
    expect((await mige(['--version'])).stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    const none = await mige([]);
    expect(none.code).toBe(2);
  });

  it('generate writes a PNG and a sidecar JSON with the parameters', async () => {
    const out = join(dir, 'gen', 'dog.png');
    const r = await mige(['generate', ...TINY, '-i', 'a photo of <imagehere> on grass', '--image', join(dir, 'subj.png'), '--seed', '3', '--out', out]);
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(out);
    const img = await decodeImage(out);
    expect([img.width, img.height]).toEqual([32, 32]);
    const params = JSON.parse(await readFile(join(dir, 'gen', 'dog.json'), 'utf8')) as Record<string, unknown>;
    expect(params).toMatchObject({ flow: 'generate', seed: 3, steps: 2, model: 'mige-tiny', instruction: 'a photo of <imagehere> on grass' });
    // Same seed, same bytes.
    const again = join(dir, 'gen', 'again.png');
    expect((await mige(['generate', ...TINY, '-i', 'a photo of <imagehere> on grass', '--image', join(dir, 'subj.png'), '--seed', '3', '-o', again])).code).toBe(0);
    expect((await readFile(again)).equals(await readFile(out))).toBe(true);
  });

  it('generate, edit and compose use the shipped default model when no --model is given', async () => {
    const out = join(dir, 'default', 'gen.png');
    const r = await mige(['generate', '--steps', '2', '-i', '<imagehere> on a plain blue background', '--image', join(dir, 'subj.png'), '-o', out]);
    expect([r.code, r.stderr]).toEqual([0, expect.not.stringMatching(/error/i)]);
    const img = await decodeImage(out);
    expect([img.width, img.height]).toEqual([64, 64]);
    const params = JSON.parse(await readFile(join(dir, 'default', 'gen.json'), 'utf8')) as Record<string, unknown>;
    expect(params).toMatchObject({ flow: 'generate', model: 'mige-world', steps: 2, sampler: { type: 'dpm-solver', maxTimestep: 549 }, scales: { y: 2 } });
    // A sampler flag changes only what it names of the model's sampler.
    const o = await mige(['generate', '--steps', '2', '--order', '1', '-i', '<imagehere> on a plain blue background', '--image', join(dir, 'subj.png'), '-o', join(dir, 'default', 'gen1.png')]);
    expect([o.code, o.stderr]).toEqual([0, expect.not.stringMatching(/error/i)]);
    expect(JSON.parse(await readFile(join(dir, 'default', 'gen1.json'), 'utf8'))).toMatchObject({ sampler: { type: 'dpm-solver', order: 1, maxTimestep: 549 } });
    const e = await mige(['edit', '--steps', '2', '-i', 'make the square blue', '--source', join(dir, 'src.png'), '-o', join(dir, 'default', 'edit.png')]);
    expect([e.code, e.stderr]).toEqual([0, expect.not.stringMatching(/error/i)]);
    expect(JSON.parse(await readFile(join(dir, 'default', 'edit.json'), 'utf8'))).toMatchObject({ flow: 'edit', model: 'mige-world' });
  });

  it('edit and compose write numbered images for -n 2', async () => {
    const e = await mige(['edit', ...TINY, '-i', 'make the block green', '--source', join(dir, 'src.png'), '-n', '2', '-o', join(dir, 'edit.png'), '--sampler', 'ddim']);
    expect([e.code, e.stderr]).toEqual([0, expect.not.stringMatching(/error/i)]);
    expect(e.stdout.trim().split('\n')).toEqual([join(dir, 'edit-0.png'), join(dir, 'edit-1.png')]);
    const params = JSON.parse(await readFile(join(dir, 'edit-1.json'), 'utf8')) as { seed: number; sampler: { type: string }; instruction: string };
    expect([params.seed, params.sampler.type, params.instruction]).toEqual([1, 'ddim', 'make the block green in<imagehere>']);
    const c = await mige(['compose', ...TINY, '-i', 'in <imagehere>, replace the block with <imagehere>', '--source', join(dir, 'src.png'), '--subject', join(dir, 'subj.png'), '-o', join(dir, 'comp.png')]);
    expect([c.code, c.stderr]).toEqual([0, expect.not.stringMatching(/error/i)]);
    expect(existsSync(join(dir, 'comp.png')) && existsSync(join(dir, 'comp.json'))).toBe(true);
  });

  it('train writes checkpoints, metrics and a model that generate then loads; --resume continues', async () => {
    const out = join(dir, 'run');
    const args = ['train', '--model', 'mige-tiny', '--world', '8', '--out', out, '--batch-size', '2', '--lr', '1e-3', '--warmup', '0', '--checkpoint-every', '2', '--log-every', '1', '--log', 'jsonl'];
    const r = await mige([...args, '--steps', '2']);
    expect([r.code, r.stdout]).toEqual([0, expect.stringMatching(/^trained 2 steps/)]);
    const logs = r.stderr.trim().split('\n').map((l) => JSON.parse(l) as { step: number; loss: number });
    expect(logs.map((l) => l.step)).toEqual([1, 2]);
    expect(logs.every((l) => Number.isFinite(l.loss))).toBe(true);
    expect(JSON.parse(await readFile(join(out, 'latest.json'), 'utf8'))).toMatchObject({ step: 2 });
    const resumed = await mige([...args, '--steps', '3', '--resume']);
    expect([resumed.code, resumed.stdout]).toEqual([0, expect.stringMatching(/^trained 3 steps/)]);
    expect((await readFile(join(out, 'metrics.jsonl'), 'utf8')).trim().split('\n')).toHaveLength(3);
    const g = await mige(['generate', '--model', join(out, 'model'), '--steps', '1', '-i', 'a red circle', '-o', join(dir, 'trained.png')]);
    expect([g.code, g.stderr]).toEqual([0, expect.not.stringMatching(/error/i)]);
  });

  it('eval writes a report for a few benchmark cases', async () => {
    const out = join(dir, 'eval');
    const r = await mige(['eval', '--model', 'mige-tiny', '--steps', '1', '--count', '1', '--tasks', 'subject,recolor,remove,background,compose_add', '--out', out]);
    expect([r.code, r.stderr]).toEqual([0, expect.not.stringMatching(/error/i)]);
    expect(r.stdout).toMatch(/^5 cases \(tfjs\): L1 \d/);
    const report = JSON.parse(await readFile(join(out, 'report.json'), 'utf8')) as { overall: { n: number }; tasks: Record<string, unknown> };
    expect(report.overall.n).toBe(5);
    expect(Object.keys(report.tasks).sort()).toEqual(['background', 'compose_add', 'recolor', 'remove', 'subject']);
    // grid.png: one row per task of 64 px cells with 2 px gaps.
    expect((await decodeImage(join(out, 'grid.png'))).height).toBe(5 * 64 + 6 * 2);
  });

  it('convert assembles an official model.pth and a diffusers VAE folder into a model that runs', async () => {
    const micro = join(DATA, 'micro-config.json');
    const vae = join(dir, 'vae');
    await initBackend({ backend: 'wasm', log: null });
    const donor = MigeModel.create(microConfig(), { seed: 21 });
    mkdirSync(vae, { recursive: true });
    await writeFile(join(vae, 'config.json'), JSON.stringify(toDiffusersVaeConfig(microConfig().vae)));
    writeSafetensors(join(vae, 'diffusion_pytorch_model.safetensors'), writableFromTensors(donor.vae.stateDict()));
    donor.dispose();
    const out = join(dir, 'converted');
    const r = await mige(['convert', '--config', micro, '--mige', join(DATA, 'micro-mige.pth'), '--vae', vae, '--out', out]);
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect(['config.json', 'model.safetensors', 'tokenizer.json'].every((f) => existsSync(join(out, f)))).toBe(true);
    const info = JSON.parse((await mige(['info', '--model', out, '--json'])).stdout) as { model: { imageSize: number } };
    expect(info.model.imageSize).toBe(microConfig().imageSize);
    const missing = await mige(['convert', '--config', micro, '--mige', join(DATA, 'micro-mige.pth'), '--out', join(dir, 'c2')]);
    expect([missing.code, missing.stderr]).toEqual([1, expect.stringMatching(/^mige convert: error: .*no piece provides .*vae\.\*/)]);
    expect(existsSync(join(dir, 'c2'))).toBe(false);
  });

  it('info prints the backend and parameter counts', async () => {
    const r = await mige(['info', '--model', 'mige-tiny', '--json']);
    expect(r.code).toBe(0);
    const info = JSON.parse(r.stdout) as { backend: { name: string }; model: { name: string; parameters: { total: number; trainable: number } } };
    expect(info.backend.name).toBe('wasm');
    expect(info.model.name).toBe('mige-tiny');
    expect(info.model.parameters.total).toBeGreaterThan(info.model.parameters.trainable);
    const text = await mige(['info']);
    expect(text.stdout).toMatch(/^backend: wasm/);
  });

  it('fails with one clear line and a non-zero code on bad input', async () => {
    const cases: [string[], number, RegExp][] = [
      [['paint'], 2, /^mige: unknown command "paint"/],
      [['generate', '--model', 'mige-tiny', '--bogus'], 2, /^mige generate: unknown option '--bogus'.*see "mige generate --help"/],
      [['generate', '--model', 'mige-tiny'], 2, /^mige generate: --instruction is required/],
      [['edit', ...TINY, '-i', 'x', '--source', join(dir, 'missing.png')], 1, /^mige edit: error: .*missing\.png.*file not found/],
      [['generate', ...TINY, '-i', 'x', '--seed', 'abc'], 1, /^mige generate: error: --seed: must be an integer, got "abc"/],
      [['generate', ...TINY, '-i', 'one <imagehere>'], 1, /^mige generate: error: generate request 0: the instruction has 1 <imagehere> but 0 image/],
      [['generate', '--model', join(dir, 'no-model'), '-i', 'x'], 1, /^mige generate: error: .*no-model/],
      [['train', '--model', 'mige-tiny', '--out', join(dir, 't2')], 2, /^mige train: give exactly one of --data <manifest> or --world <n>/],
      [['train', '--model', 'mige-tiny', '--world', '2', '--out', join(dir, 't3'), '--edit-focus=-1'], 1, /^mige train: error: --edit-focus: must be >= 0, got -1/],
      [['train', '--model', 'mige-tiny', '--world', '2', '--out', join(dir, 't4'), '--stop-at', '0'], 1, /^mige train: error: --stop-at: must be >= 1, got 0/],
      [['train', '--model', 'mige-tiny', '--world', '2', '--out', join(dir, 't5'), '--world-tasks', 'add=x'], 1, /^mige train: error: --world-tasks: "add=x" is not task=weight with task one of subject, recolor/],
      [['train', '--model', 'mige-tiny', '--data', join(dir, 'm.json'), '--out', join(dir, 't6'), '--world-tasks', 'add=2'], 2, /^mige train: --world-tasks applies to --world only/],
      [['train', '--model', 'mige-tiny', '--data', join(dir, 'm.json'), '--out', join(dir, 't6'), '--world-subjects-on-source', '0.5'], 2, /^mige train: --world-subjects-on-source applies to --world only/],
      [['train', '--model', 'mige-tiny', '--world', '2', '--out', join(dir, 't8'), '--world-subjects-on-source', '2'], 1, /^mige train: error: --world-subjects-on-source: must be <= 1, got 2/],
      // Every world example a subject generation: the edit group is empty, so --ratios edit=1 has nothing to draw.
      [['train', '--model', 'mige-tiny', '--world', '4', '--out', join(dir, 't7'), '--ratios', 'edit=1', '--world-tasks', 'recolor=0,remove=0,add=0,move=0,resize=0,background=0,compose_add=0,compose_replace=0'], 1, /^mige train: error: .*no task group has both data and a ratio > 0/],
      [['info', '--backend', 'gpu9'], 1, /^mige info: error: --backend: must be one of/],
      [['generate', ...TINY, '-i', 'x', '--max-timestep', '1000'], 1, /^mige generate: error: --max-timestep: must be <= 999, got 1000/],
      [['generate', ...TINY, '-i', 'x', '--sampler', 'ddim', '--max-timestep', '500'], 1, /^mige generate: error: --max-timestep: only applies to --sampler dpm-solver or ddpm/],
    ];
    for (const [args, code, pattern] of cases) {
      const r = await mige(args);
      expect([args.join(' '), r.code]).toEqual([args.join(' '), code]);
      expect(r.stderr).toMatch(pattern);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
  });

  it('refuses a checkpoint that does not fit the model config', async () => {
    const out = join(dir, 'bad-model');
    expect((await mige(['train', '--model', 'mige-tiny', '--world', '2', '--out', join(dir, 'run2'), '--steps', '1', '--batch-size', '1', '--log', 'jsonl'])).code).toBe(0);
    const model = join(dir, 'run2', 'model');
    const config = JSON.parse(await readFile(join(model, 'config.json'), 'utf8')) as { config: { backbone: { hiddenSize: number; numHeads: number } } };
    config.config.backbone.hiddenSize *= 2;
    await writeFile(join(model, 'config.json'), JSON.stringify(config));
    const r = await mige(['info', '--model', model]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^mige info: error: .*(shape|hiddenSize|vaeDim)/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    void out;
  });
});
