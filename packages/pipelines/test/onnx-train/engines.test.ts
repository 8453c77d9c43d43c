// The ONNX Runtime training engine against the TF.js one: the whole loss's gradients on one
// micro-batch (mige-tiny and the default model's world config), 20 steps of training on the same
// data, and resuming a checkpoint of one engine on the other.
import { Rng, tf } from '@mige/core';
import { useBackend } from '@mige/core/testing';
import { generateExample, TaskSampler, type WorldExample } from '@mige/data';
import { beforeAll, describe, expect, it } from 'vitest';
import { defaultModelDir, loadModel, MIGE_TINY, MigeModel } from '../../src/model/index.js';
import { datasetFromWorld, resolveTrainConfig, train, type TrainConfig } from '../../src/train/index.js';
import { LatentCache } from '../../src/train/latent-cache.js';
import { microBatchGradients } from '../../src/train/micro-batch.js';
import { OnnxGradients } from '../../src/train/onnx/engine.js';
import { tempDirsPerTest } from '../train/temp-dirs.js';
import { compareGradients } from './grad-parity.js';

const quiet = { write: () => true, isTTY: false } as unknown as NodeJS.WritableStream;
/** Key biases: zero in exact arithmetic (softmax is shift-invariant), float32 noise in both engines. */
const KEY_BIAS = /(key\.bias|ln_k_1\.bias)$/;
const TASKS = ['subject', 'recolor', 'compose_add', 'compose_replace', 'move', 'subject', 'remove', 'compose_add'] as const;

function world(size: number, seed: number): WorldExample[] {
  return TASKS.map((task, i) => generateExample(seed, i, { task, size }));
}

/** A fresh DiT outputs zeros (zero-initialised final layer and gates): give it outputs that depend on everything. */
function randomizeOutputs(model: MigeModel): void {
  const rng = new Rng('outputs');
  for (const [name, p] of model.namedParameters()) {
    if (name.startsWith('final_layer.') || name.includes('scale_shift_table') || name.startsWith('FFM.mlp')) p.assign(tf.mul(rng.randn(p.shape), 0.1));
  }
}

async function gradientParity(model: MigeModel, batch: number): Promise<ReturnType<typeof compareGradients> & { lossRel: number }> {
  const size = model.config.imageSize;
  const dataset = datasetFromWorld(world(size, 5), { imageSize: size, vitSize: model.config.encoder.vision.imgSize });
  const cfg = resolveTrainConfig({ batchSize: batch, seed: 3 });
  const draws = new TaskSampler(dataset.sizes, { subject: 1, edit: 1, add: 1, replace: 1 }, 3).take(batch);
  const params = model.trainableParameters();
  const names = new Map(params.map(([n, p]) => [p.name, n]));
  const ref = await microBatchGradients({ model, params, dataset, cfg, latents: new LatentCache(model.vae) }, 0, 0, draws, [0, batch]);
  const tfGrads = new Map(Object.entries(ref.grads).map(([v, g]) => [names.get(v) as string, Float32Array.from(g.dataSync())]));
  tf.dispose(Object.values(ref.grads));
  const engine = await OnnxGradients.create(model, dataset, cfg);
  try {
    const ours = await engine.stepGradients(0, [draws]);
    return { ...compareGradients(ours.grads, tfGrads, KEY_BIAS), lossRel: Math.abs(ours.loss - ref.loss) / ref.loss };
  } finally {
    await engine.release();
  }
}

describe('the whole loss: ONNX gradients against TF.js autodiff (one micro-batch, the same draws)', () => {
  beforeAll(() => useBackend('wasm'));

  const expectParity = async (model: MigeModel): Promise<void> => {
    const r = await gradientParity(model, 8);
    expect(r.lossRel).toBeLessThanOrEqual(1e-5);
    expect(r.rel.size + r.zero.size).toBe(model.trainableParameters().length);
    expect(r.worst, r.worstName).toBeLessThanOrEqual(1e-4);
    expect(r.worstZero, [...r.zero.keys()].join(', ')).toBeLessThanOrEqual(1e-6);
    model.dispose();
  };

  it('mige-tiny', async () => {
    const model = MigeModel.create(MIGE_TINY, { seed: 1 });
    randomizeOutputs(model);
    await expectParity(model);
  });

  it('the world config (the shipped default model)', () => expectParity(loadModel(defaultModelDir())));
});

describe('training on both engines', () => {
  const tmp = tempDirsPerTest('engines');
  beforeAll(() => useBackend('wasm'));
  const sizes = { imageSize: MIGE_TINY.imageSize, vitSize: MIGE_TINY.encoder.vision.imgSize };
  const config: Partial<TrainConfig> = { batchSize: 4, lr: 1e-3, warmupSteps: 0, logEvery: 1, checkpointEvery: 2, steps: 20, emaDecay: 0.99, gradAccumSteps: 2 };

  it('the same 20 steps give losses within 1e-3 relative at every step', async () => {
    const dataset = datasetFromWorld(world(32, 9), sizes);
    const run = async (engine: 'onnx' | 'tfjs') => {
      const model = MigeModel.create(MIGE_TINY, { seed: 8 });
      const res = await train({ engine, model, dataset, outDir: tmp(), config, log: quiet });
      model.dispose();
      return res.losses;
    };
    const [onnx, tfjs] = [await run('onnx'), await run('tfjs')];
    expect(onnx).toHaveLength(20);
    const rel = onnx.map((l, i) => Math.abs(l - (tfjs[i] as number)) / (tfjs[i] as number));
    expect(Math.max(...rel), rel.map((r) => r.toExponential(1)).join(' ')).toBeLessThanOrEqual(1e-3);
    // Training moved: the last losses are not the first ones.
    expect(Math.abs((onnx[19] as number) - (onnx[0] as number))).toBeGreaterThan(1e-3);
  });

  it('prefetching the next batch changes nothing: the same losses and weights, bit for bit', async () => {
    const dataset = datasetFromWorld(world(32, 9), sizes);
    const run = async (prefetch: boolean) => {
      const model = MigeModel.create(MIGE_TINY, { seed: 8 });
      const res = await train({ engine: 'onnx', prefetch, model, dataset, outDir: tmp(), config: { ...config, steps: 4 }, log: quiet });
      const weights = model.namedParameters().map(([, p]) => Buffer.from((p.dataSync() as Float32Array).buffer));
      model.dispose();
      return { losses: res.losses, weights };
    };
    const [plain, ahead] = [await run(false), await run(true)];
    expect(ahead.losses).toEqual(plain.losses);
    expect(ahead.weights.every((w, i) => w.equals(plain.weights[i] as Buffer))).toBe(true);
  });

  it('a checkpoint of either engine resumes on the other', async () => {
    const dataset = datasetFromWorld(world(32, 9), sizes);
    const four = { ...config, steps: 4 };
    const straight = async (engine: 'onnx' | 'tfjs') => {
      const model = MigeModel.create(MIGE_TINY, { seed: 8 });
      const res = await train({ engine, model, dataset, outDir: tmp(), config: four, log: quiet });
      model.dispose();
      return res.losses;
    };
    for (const [first, second] of [['tfjs', 'onnx'], ['onnx', 'tfjs']] as const) {
      const out = tmp();
      const a = MigeModel.create(MIGE_TINY, { seed: 8 });
      await train({ engine: first, model: a, dataset, outDir: out, config: { ...four, steps: 2 }, log: quiet });
      a.dispose();
      const b = MigeModel.create(MIGE_TINY, { seed: 99 }); // every weight must come from the checkpoint
      const resumed = await train({ engine: second, model: b, dataset, outDir: out, config: four, resume: true, log: quiet });
      b.dispose();
      expect(resumed.step).toBe(4);
      const reference = await straight(second);
      resumed.losses.forEach((l, i) => expect(Math.abs(l - (reference[i + 2] as number)) / (reference[i + 2] as number), `${first} → ${second}, step ${i + 3}`).toBeLessThanOrEqual(1e-3));
    }
  });
});
