import { Rng, tf } from '@mige/core';
import { useBackend } from '@mige/core/testing';
import { generateExample } from '@mige/data';
import { beforeAll, describe, expect, it } from 'vitest';
import { MIGE_TINY, MigeModel } from '../../src/model/index.js';
import { datasetFromWorld, disposeTrainBatch, LatentCache, prepareTrainBatch } from '../../src/train/index.js';

const SIZES = { imageSize: MIGE_TINY.imageSize, vitSize: MIGE_TINY.encoder.vision.imgSize };

describe('LatentCache', () => {
  beforeAll(async () => {
    await useBackend('wasm');
  });

  it('gives the same latents as encoding every time, and encodes each image once', async () => {
    const model = MigeModel.create(MIGE_TINY, { seed: 2 });
    const world = (['recolor', 'compose_add', 'subject'] as const).map((task, i) => generateExample(5, i, { task, size: 32 }));
    const ds = datasetFromWorld(world, SIZES);
    const examples = await Promise.all([ds.get('edit', 0), ds.get('add', 0), ds.get('subject', 0), ds.get('edit', 0)]);
    const cache = new LatentCache(model.vae);
    for (const mode of ['sample', 'mean'] as const) {
      const plain = prepareTrainBatch(model, examples, new Rng('same'), mode);
      const cached = prepareTrainBatch(model, examples, new Rng('same'), mode, cache);
      const again = prepareTrainBatch(model, examples, new Rng('same'), mode, cache);
      for (const b of [cached, again]) {
        expect(tf.max(tf.abs(tf.sub(b.x0, plain.x0))).dataSync()[0]).toBeLessThan(1e-6);
        expect(tf.max(tf.abs(tf.sub(b.cond, plain.cond))).dataSync()[0]).toBeLessThan(1e-6);
        b.inputs.forEach((input, i) => {
          const want = (plain.inputs[i] as { latents: tf.Tensor }).latents;
          expect(input.latents.shape).toEqual(want.shape);
          if (want.size > 0) expect(tf.max(tf.abs(tf.sub(input.latents, want))).dataSync()[0]).toBeLessThan(1e-6);
        });
      }
      [plain, cached, again].forEach(disposeTrainBatch);
    }
    // Distinct images: the edit example twice, an entity that is the source, shared subject cards.
    const distinct = new Set(examples.flatMap((ex) => [ex.target, ...(ex.source ? [ex.source] : []), ...ex.entities.map((e) => e.vae)]).map((img) => Array.from(img.data).join())).size;
    expect(cache.size).toBe(distinct);
    model.dispose();
  });

  it('stops growing at maxEntries and still encodes the rest', async () => {
    const model = MigeModel.create(MIGE_TINY, { seed: 2 });
    const ds = datasetFromWorld([0, 1, 2].map((i) => generateExample(6, i, { task: 'recolor', size: 32 })), SIZES);
    const examples = await Promise.all([0, 1, 2].map((i) => ds.get('edit', i)));
    const cache = new LatentCache(model.vae, 2);
    const plain = prepareTrainBatch(model, examples, new Rng('r'), 'sample');
    const cached = prepareTrainBatch(model, examples, new Rng('r'), 'sample', cache);
    expect(cache.size).toBe(2);
    expect(tf.max(tf.abs(tf.sub(cached.x0, plain.x0))).dataSync()[0]).toBeLessThan(1e-6);
    [plain, cached].forEach(disposeTrainBatch);
    model.dispose();
  });
});
