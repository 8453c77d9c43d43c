// `mige edit` run from another working directory with relative paths, on the inputs a user
// brings: an RGBA PNG with transparent pixels and a 512×384 JPEG. Relative paths resolve from
// the working directory; each adjustment of an input is one notice line; the output lands where
// -o says, at the model's size.
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { decodeImage } from '@mige/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mige, tempDir } from './helpers.js';

describe('mige edit from another working directory', () => {
  let dir = '';
  let cleanup = async () => {};
  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir());
    await mkdir(join(dir, 'inputs'));
    // 64×64 RGBA: a red square on a fully transparent background (3/4 of the pixels).
    const rgba = Buffer.alloc(64 * 64 * 4);
    for (let y = 0; y < 64; y++) for (let x = 0; x < 64; x++) if (x >= 16 && x < 48 && y >= 16 && y < 48) rgba.set([220, 30, 30, 255], (y * 64 + x) * 4);
    await writeFile(join(dir, 'inputs', 'scene.png'), await sharp(rgba, { raw: { width: 64, height: 64, channels: 4 } }).png().toBuffer());
    // 512×384 JPEG: a blue square on pale grey.
    const rgb = Buffer.alloc(512 * 384 * 3, 210);
    for (let y = 120; y < 264; y++) for (let x = 184; x < 328; x++) rgb.set([30, 30, 200], (y * 512 + x) * 3);
    await writeFile(join(dir, 'inputs', 'photo.jpg'), await sharp(rgb, { raw: { width: 512, height: 384, channels: 3 } }).jpeg({ quality: 92 }).toBuffer());
  });
  afterAll(() => cleanup());

  it('composites a transparent PNG on white with a notice, and writes -o relative to the working directory', async () => {
    const r = await mige(['edit', '--steps', '2', '-i', 'make the background red', '--source', 'inputs/scene.png', '-o', 'out/edited.png'], { cwd: dir });
    expect([r.code, r.stdout.trim()]).toEqual([0, 'out/edited.png']);
    expect(r.stderr.trim().split('\n')).toEqual(['notice: --source inputs/scene.png: 75% of its pixels are transparent; composited on white (--background to change)']);
    const out = await decodeImage(join(dir, 'out', 'edited.png'));
    expect([out.width, out.height]).toEqual([64, 64]);
    expect(JSON.parse(await readFile(join(dir, 'out', 'edited.json'), 'utf8'))).toMatchObject({ flow: 'edit', model: 'mige-world', steps: 2 });
    // --background black: another colour under the transparent pixels, so another input.
    const b = await mige(['edit', '--steps', '2', '-i', 'make the background red', '--source', 'inputs/scene.png', '--background', 'black', '-o', 'out/black.png'], { cwd: dir });
    expect(b.code).toBe(0);
    expect(b.stderr).toContain('composited on black');
    expect((await readFile(join(dir, 'out', 'black.png'))).equals(await readFile(join(dir, 'out', 'edited.png')))).toBe(false);
  });

  it('says how a 512×384 JPEG is fitted to the model, and edits it', async () => {
    const r = await mige(['edit', '--steps', '2', '-i', 'remove the blue square', '--source', 'inputs/photo.jpg', '-o', 'out/photo.webp'], { cwd: dir });
    expect([r.code, r.stdout.trim()]).toEqual([0, 'out/photo.webp']);
    expect(r.stderr.trim().split('\n')).toEqual([
      'notice: --source inputs/photo.jpg is 512×384; the model works at 64×64: it is resized (short side to 64) and centre-cropped to 64×64, losing its left and right edges',
    ]);
    const out = await decodeImage(join(dir, 'out', 'photo.webp'));
    expect([out.width, out.height]).toEqual([64, 64]);
  });

  it('checks the output format and the input path before any work, from the working directory', async () => {
    const gif = await mige(['edit', '-i', 'x', '--source', 'inputs/photo.jpg', '-o', 'out/x.gif'], { cwd: dir });
    expect([gif.code, gif.stderr.trim()]).toEqual([1, 'mige edit: error: --out: cannot write "x.gif": outputs are .png, .jpg / .jpeg or .webp']);
    const missing = await mige(['edit', '-i', 'x', '--source', 'photo.jpg'], { cwd: join(dir, 'out') });
    expect([missing.code, missing.stderr.trim()]).toEqual([1, 'mige edit: error: --source photo.jpg: file not found']);
    expect(existsSync(join(dir, 'out', 'out.png'))).toBe(false);
    const typo = await mige(['edit', '--sorce', 'inputs/photo.jpg'], { cwd: dir });
    expect([typo.code, typo.stderr.trim()]).toEqual([2, `mige edit: unknown option '--sorce' (did you mean --source?) (see "mige edit --help")`]);
  });

  it("resolves the model by name, and its help shows that model's own defaults", async () => {
    const help = await mige(['edit', '--model', 'mige-world', '--help'], { cwd: dir });
    expect(help.stdout).toContain("Defaults for this model (mige-world's sampling.json): 20 steps, s_y 3, s_s 1.5, dpm-solver order 2.");
    const gen = await mige(['generate', '--help'], { cwd: dir });
    expect(gen.stdout).toContain("Defaults for this model (mige-world's sampling.json): 20 steps, s_y 2, dpm-solver order 2, from timestep 549.");
    const tiny = await mige(['edit', '--model', 'mige-tiny', '--help'], { cwd: dir });
    expect(tiny.stdout).toContain("Defaults for this model (the reference's; mige-tiny has no sampling.json): 60 steps, s_y 5, s_s 1, dpm-solver order 2.");
    const info = await mige(['info'], { cwd: dir });
    expect(info.stdout).toMatch(/^model: mige-world, 64 px/m);
    const cuda = await mige(['edit', '--device', 'cuda', '-i', 'x', '--source', 'inputs/photo.jpg'], { cwd: dir });
    expect([cuda.code, cuda.stderr.trim().split('\n').length]).toEqual([1, 1]);
    expect(cuda.stderr).toMatch(/^mige edit: error: .*--device cuda needs the model's ONNX export in onnx\//);
  });
});
