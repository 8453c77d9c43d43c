import { join } from 'node:path';
import { tf } from '@mige/core';
import { lazyTempDir, useBackend } from '@mige/core/testing';
import { generateExample, type WorldExample } from '@mige/data';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIGE_TINY, MigeModel } from '../../src/model/index.js';
import { accumulate } from '../../src/train/micro-batch.js';
import { datasetFromWorld, shardRange, train, type TrainConfig, type TrainDataset } from '../../src/train/index.js';

const SIZES = { imageSize: MIGE_TINY.imageSize, vitSize: MIGE_TINY.encoder.vision.imgSize };
const quiet = { write: () => true, isTTY: false } as unknown as NodeJS.WritableStream;

function world(): WorldExample[] {
  const tasks = ['subject', 'recolor', 'compose_add', 'compose_replace', 'move', 'add', 'remove'] as const;
  return tasks.map((task, i) => generateExample(5, i, { task, size: 32 }));
}

function flat(model: MigeModel): Map<string, Float32Array> {
  return new Map(model.trainableParameters().map(([n, p]: [string, tf.Variable]) => [n, p.dataSync() as Float32Array]));
}

describe('training on several threads', () => {
  const dir = lazyTempDir('train-workers');
  let runs = 0;
  const tmp = () => join(dir.get(), `run-${runs++}`);
  beforeAll(() => useBackend('wasm'));
  afterAll(() => dir.remove());

  it('splits a micro-batch into near-equal contiguous shares, the main thread first', () => {
    expect([0, 1, 2].map((w) => shardRange(8, 3, w))).toEqual([[0, 3], [3, 6], [6, 8]]);
    expect([0, 1].map((w) => shardRange(8, 2, w))).toEqual([[0, 4], [4, 8]]);
    expect(shardRange(5, 1, 0)).toEqual([0, 5]);
  });

  it('accumulates a gradient that only some micro-batches have (items without images leave the image path without one)', () => {
    const first = accumulate({}, { a: tf.tensor1d([2, 4]), b: tf.tensor1d([6]) }, 2);
    const both = accumulate(first, { a: tf.tensor1d([2, 2]) }, 2);
    expect(Object.keys(both).sort()).toEqual(['a', 'b']);
    expect(Array.from((both.a as tf.Tensor).dataSync())).toEqual([2, 3]);
    expect(Array.from((both.b as tf.Tensor).dataSync())).toEqual([3]);
    tf.dispose(Object.values(both));
  });

  it('2 threads train what 1 thread does: same losses and weights up to float summation order', async () => {
    // Odd batch (shares of 2 and 1), accumulation, edit focus and EMA: every path that is split.
    const config: Partial<TrainConfig> = { batchSize: 3, gradAccumSteps: 2, lr: 1e-3, warmupSteps: 0, steps: 3, emaDecay: 0.9, editFocus: 2, checkpointEvery: 3, seed: 7 };
    const dataset = datasetFromWorld(world(), SIZES);
    const one = MigeModel.create(MIGE_TINY, { seed: 3 });
    const a = await train({ model: one, dataset, outDir: tmp(), config, log: quiet, engine: 'tfjs' });
    const two = MigeModel.create(MIGE_TINY, { seed: 3 });
    const b = await train({ model: two, dataset, outDir: tmp(), config, log: quiet, workers: 2, engine: 'tfjs' });
    expect(b.losses).toHaveLength(3);
    b.losses.forEach((l, i) => expect(Math.abs(l - (a.losses[i] as number))).toBeLessThan(1e-5 * Math.abs(l)));
    const x = flat(one), y = flat(two);
    let worst = 0, moved = 0;
    const init = flat(MigeModel.create(MIGE_TINY, { seed: 3 }));
    for (const [k, u] of x) {
      const v = y.get(k) as Float32Array, w0 = init.get(k) as Float32Array;
      for (let i = 0; i < u.length; i++) {
        worst = Math.max(worst, Math.abs((u[i] as number) - (v[i] as number)));
        moved = Math.max(moved, Math.abs((u[i] as number) - (w0[i] as number)));
      }
    }
    // Training moved weights by ~lr per step (measured: 3.0e-3); the runs agree to 7.3e-6 (Adam
    // divides by sqrt(v), which turns summation-order noise in small gradients into that).
    expect(moved).toBeGreaterThan(1e-3);
    expect(worst).toBeLessThan(moved / 100);
    one.dispose();
    two.dispose();
  });

  it('refuses splits it cannot make, naming why', async () => {
    const model = MigeModel.create(MIGE_TINY, { seed: 1 });
    const dataset = datasetFromWorld(world(), SIZES);
    await expect(train({ model, dataset, outDir: tmp(), config: { batchSize: 1, steps: 1 }, log: quiet, workers: 2, engine: 'tfjs' })).rejects.toThrow(/batch size 1 is smaller than workers 2/);
    const custom: TrainDataset = { sizes: dataset.sizes, get: (t, i) => dataset.get(t, i) };
    await expect(train({ model, dataset: custom, outDir: tmp(), config: { batchSize: 2, steps: 1 }, log: quiet, workers: 2, engine: 'tfjs' })).rejects.toThrow(/another thread can rebuild/);
    model.dispose();
  });
});
