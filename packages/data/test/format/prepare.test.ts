import { mkdir, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { blipEvalTransform, CLIP_MEAN, CLIP_STD, createRgbImage, decodeImage, vaeTransform, writeImage } from '@mige/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { prepareExample } from '../../src/format/index.js';
import { tempDir, writePng } from './fixtures.js';

async function writeSolid(path: string, w: number, h: number, rgb: [number, number, number]): Promise<void> {
  const img = createRgbImage(w, h);
  for (let i = 0; i < w * h; i++) img.data.set(rgb, i * 3);
  await writeImage(path, img);
}

describe('prepareExample', () => {
  let base = '';
  let root = '';
  let cleanup = async () => {};
  beforeEach(async () => {
    ({ dir: base, cleanup } = await tempDir());
    root = join(base, 'ds');
    await mkdir(root);
    await writePng(join(root, 't.png'), 48, 32);
    await writeSolid(join(root, 's.png'), 20, 30, [255, 0, 255]);
    await writeSolid(join(root, 'e.png'), 10, 10, [255, 255, 0]);
    await writePng(join(base, 'out.png'), 8, 8);
    await symlink(join(base, 'out.png'), join(root, 'link.png'));
  });
  afterEach(() => cleanup());

  it('gives VAE tensors for target/source and BLIP tensors for entities, at configured sizes', async () => {
    const rec = { image: 't.png', source_path: 's.png', entity_path: ['e.png', 't.png'], multi_prompt: 'put <imagehere> on <imagehere>' };
    const ex = await prepareExample(rec, root, { vaeSize: 16, clipSize: 8 });
    expect([ex.target.width, ex.target.height, ex.target.data.length]).toEqual([16, 16, 3 * 16 * 16]);
    // Same as composing core's transforms by hand (short side → 16, center crop).
    expect(Array.from(ex.target.data)).toEqual(Array.from(vaeTransform(await decodeImage(join(root, 't.png')), 16).data));
    // Solid magenta maps to exactly (1, -1, 1) in [-1, 1].
    const src = ex.source?.data ?? new Float32Array();
    expect([src[0], src[256], src[512]]).toEqual([1, -1, 1]);
    expect(ex.entities).toHaveLength(2);
    const e0 = ex.entities[0]?.data ?? new Float32Array();
    expect(e0.length).toBe(3 * 8 * 8);
    expect(e0[0]).toBeCloseTo((1 - CLIP_MEAN[0]) / CLIP_STD[0], 5);
    expect(e0[64]).toBeCloseTo((1 - CLIP_MEAN[1]) / CLIP_STD[1], 5);
    expect(e0[128]).toBeCloseTo((0 - CLIP_MEAN[2]) / CLIP_STD[2], 5);
    expect(Array.from(ex.entities[1]?.data ?? [])).toEqual(Array.from(blipEvalTransform(await decodeImage(join(root, 't.png')), 8).data));
    // Entities also get the VAE transform, for their latents.
    expect(Array.from(ex.entitiesVae[1]?.data ?? [])).toEqual(Array.from(ex.target.data));
    expect([ex.entitiesVae[0]?.width, ex.entitiesVae[0]?.data[0]]).toEqual([16, 1]);
    expect(ex.instruction).toBe(rec.multi_prompt);
  });

  it('defaults to the reference sizes 512 / 224 and no source for subject-driven records', async () => {
    const ex = await prepareExample({ image: 't.png', source_path: '', entity_path: ['e.png'], multi_prompt: '<imagehere>' }, root);
    expect([ex.target.width, ex.target.height]).toEqual([512, 512]);
    expect(ex.source).toBeNull();
    expect([ex.entities[0]?.width, ex.entities[0]?.height]).toEqual([224, 224]);
  });

  it('refuses paths that leave the root and missing files', async () => {
    const rec = { image: 't.png', source_path: '', entity_path: [], multi_prompt: 'x' };
    await expect(prepareExample({ ...rec, image: '../out.png' }, root)).rejects.toThrow(/leaves the dataset root/);
    await expect(prepareExample({ ...rec, source_path: 'link.png' }, root)).rejects.toThrow(/through a symlink/);
    await expect(prepareExample({ ...rec, entity_path: ['no.png'] }, root)).rejects.toThrow(/entity_path\[0\] "no.png": file not found/);
  });
});
