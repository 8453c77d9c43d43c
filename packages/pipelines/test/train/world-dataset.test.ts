import { streamExamples } from '@mige/data';
import { describe, expect, it } from 'vitest';
import { datasetFromWorld, datasetFromWorldSeed, TRAIN_TASKS, type TrainExample } from '../../src/train/index.js';

const SIZES = { imageSize: 32, vitSize: 16 };

function bytes(e: TrainExample): Buffer {
  const images = [e.target, ...(e.source ? [e.source] : []), ...e.entities.flatMap((x) => [x.vit, x.vae])];
  return Buffer.concat(images.map((img) => Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength)));
}

describe('datasetFromWorldSeed', () => {
  it('is the in-memory dataset of the same examples, rendered on demand', async () => {
    const options = { seed: 3, count: 40, start: 5, size: 32 };
    const lazy = datasetFromWorldSeed(options, SIZES);
    const eager = datasetFromWorld([...streamExamples(options)], SIZES);
    expect(lazy.sizes).toEqual(eager.sizes);
    expect(Object.values(lazy.sizes).reduce((a, b) => a + b, 0)).toBe(40);
    for (const task of TRAIN_TASKS) {
      expect(lazy.sizes[task]).toBeGreaterThan(0);
      for (let i = 0; i < lazy.sizes[task]; i++) {
        const [a, b] = await Promise.all([lazy.get(task, i), eager.get(task, i)]);
        expect(a.instruction).toBe(b.instruction);
        expect([a.task, a.sourceEntity, a.entities.length]).toEqual([b.task, b.sourceEntity, b.entities.length]);
        expect(bytes(a).equals(bytes(b))).toBe(true);
        expect(Buffer.from(a.objects?.() ?? []).equals(Buffer.from(b.objects?.() ?? []))).toBe(true);
      }
    }
  });

  it('names the bad count or index', async () => {
    expect(() => datasetFromWorldSeed({ seed: 3, count: 0 }, SIZES)).toThrow(/count must be an integer >= 1, got 0/);
    const ds = datasetFromWorldSeed({ seed: 3, count: 10, size: 32 }, SIZES);
    await expect(async () => ds.get('subject', 99)).rejects.toThrow(/no example 99 in task "subject"/);
  });
});
