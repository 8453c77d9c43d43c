import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRgbImage, decodeImage, encodeImage, MigeInputError, Rng, type RgbImage } from '@mige/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FeatureCache, hashBytes, hashPixels, type CacheEncoders, type FeatureTensor } from '../../src/cache/index.js';

const root = mkdtempSync(join(tmpdir(), 'mige-cache-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const N_IMAGES = 7;
const paths: string[] = [];

beforeAll(async () => {
  for (let i = 0; i < N_IMAGES; i++) {
    const data = new Uint8Array(4 * 4 * 3).map((_, j) => (j * 13 + i * 29) % 256);
    const p = join(root, `img${i}.png`);
    writeFileSync(p, await encodeImage(createRgbImage(4, 4, data), 'png'));
    paths.push(p);
  }
});

/** Deterministic fakes derived from the pixels, with awkward float values to test exactness. */
function vaeOf(img: RgbImage): { mean: number[]; std: number[] } {
  const mean = Array.from({ length: 8 }, (_, k) => Math.fround(img.data[k]! / 7 - 3.1));
  const std = Array.from({ length: 8 }, (_, k) => Math.fround(0.01 + img.data[k + 8]! / 1000));
  return { mean, std };
}
function vitOf(img: RgbImage): number[] {
  return Array.from({ length: 6 }, (_, k) => Math.fround(Math.sin(img.data[k]! + k)));
}

function fakeEncoders(): CacheEncoders & { calls: number[] } {
  const calls: number[] = [];
  const batch = (rows: number[][], inner: number[]): FeatureTensor => ({
    data: Float32Array.from(rows.flat()),
    shape: [rows.length, ...inner],
  });
  return {
    calls,
    encodeVae(images) {
      calls.push(images.length);
      const v = images.map(vaeOf);
      return Promise.resolve({ mean: batch(v.map((x) => x.mean), [2, 2, 2]), std: batch(v.map((x) => x.std), [2, 2, 2]) });
    },
    encodeVit(images) {
      return Promise.resolve(batch(images.map(vitOf), [2, 3]));
    },
  };
}

describe('FeatureCache', () => {
  it('builds shards, reopens, and round-trips values exactly', async () => {
    const dir = join(root, 'a');
    const enc = fakeEncoders();
    const cache = FeatureCache.open(dir);
    const progress: number[] = [];
    const res = await cache.build([...paths, paths[0]!], enc, { shardSize: 3, onProgress: (p) => progress.push(p.done) });
    expect(res).toMatchObject({ encoded: 7, skipped: 1, shardsWritten: 3 });
    expect(enc.calls).toEqual([3, 3, 1]);
    expect(progress.at(-1)).toBe(8);
    expect(readdirSync(dir).sort()).toEqual(['index.json', 'shard-00000.safetensors', 'shard-00001.safetensors', 'shard-00002.safetensors']);
    cache.close();

    const again = FeatureCache.open(dir);
    expect(again.size).toBe(7);
    for (let i = 0; i < N_IMAGES; i++) {
      const img = await decodeImage(paths[i]!);
      const f = again.get(res.hashes[i]!);
      expect(f.mean.shape).toEqual([2, 2, 2]);
      expect(f.vit.shape).toEqual([2, 3]);
      expect(Array.from(f.mean.data)).toEqual(vaeOf(img).mean);
      expect(Array.from(f.std.data)).toEqual(vaeOf(img).std);
      expect(Array.from(f.vit.data)).toEqual(vitOf(img));
    }
    expect(() => again.get('0'.repeat(64))).toThrow(MigeInputError);
    again.close();
  });

  it('sampleLatent = mean + std·ε with ε from the given rng', async () => {
    const dir = join(root, 'b');
    const cache = FeatureCache.open(dir);
    const { hashes } = await cache.build(paths.slice(0, 1), fakeEncoders());
    const h = hashes[0]!;
    const { mean, std } = cache.get(h);
    const z = cache.sampleLatent(h, new Rng(42));
    const eps = new Rng(42);
    expect(z.shape).toEqual([2, 2, 2]);
    z.data.forEach((v, i) => expect(v).toBe(Math.fround(mean.data[i]! + std.data[i]! * eps.normal())));
    expect(Array.from(cache.sampleLatent(h, new Rng(42)).data)).toEqual(Array.from(z.data));
    cache.close();
  });

  it('resumes after an abort mid-build without re-encoding finished shards', async () => {
    const dir = join(root, 'c');
    const controller = new AbortController();
    const first = fakeEncoders();
    const cache = FeatureCache.open(dir);
    await expect(
      cache.build(paths, first, {
        shardSize: 2,
        signal: controller.signal,
        onProgress: (p) => {
          if (p.shardsWritten === 2) controller.abort();
        },
      }),
    ).rejects.toThrow(/abort/i);
    expect(first.calls).toEqual([2, 2]);
    cache.close();

    const reopened = FeatureCache.open(dir);
    expect(reopened.size).toBe(4);
    const second = fakeEncoders();
    const res = await reopened.build(paths, second, { shardSize: 2 });
    expect(second.calls).toEqual([2, 1]);
    expect(res).toMatchObject({ encoded: 3, skipped: 4, shardsWritten: 2 });
    expect(reopened.size).toBe(7);
    reopened.close();

    const full = FeatureCache.open(join(root, 'c-ref'));
    await full.build(paths, fakeEncoders(), { shardSize: 2 });
    const resumed = FeatureCache.open(dir);
    for (const h of res.hashes) expect(resumed.get(h)).toEqual(full.get(h));
    resumed.close();
    full.close();
  });

  it('rejects encoder outputs of the wrong batch size and a malformed index', async () => {
    const dir = join(root, 'd');
    const bad: CacheEncoders = {
      encodeVae: () => Promise.resolve({ mean: { data: new Float32Array(4), shape: [1, 4] }, std: { data: new Float32Array(4), shape: [1, 4] } }),
      encodeVit: () => Promise.resolve({ data: new Float32Array(2), shape: [1, 2] }),
    };
    await expect(FeatureCache.open(dir).build(paths.slice(0, 2), bad)).rejects.toThrow(/encodeVae\(\)\.mean/);
    writeFileSync(join(dir, 'index.json'), '{"version": 2}');
    expect(() => FeatureCache.open(dir)).toThrow(MigeInputError);
  });

  it('hashes file bytes and pixels', () => {
    expect(hashBytes(new TextEncoder().encode('abc'))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    const a = createRgbImage(2, 3, new Uint8Array(18));
    const b = createRgbImage(3, 2, new Uint8Array(18));
    expect(hashPixels(a)).not.toBe(hashPixels(b));
  });
});
