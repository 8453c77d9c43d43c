import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MigeAbortError, nn, Rng, tf, type Latents } from '@mige/core';
import { useBackend } from '@mige/core/testing';
import { generateExample, streamExamples, writeDataset, type WorldExample } from '@mige/data';
import { beforeAll, describe, expect, it } from 'vitest';
import { iddpmTables } from '../../src/diffusion/index.js';
import { extractIntoTensor, hybridLoss, qSample } from '../../src/loss/index.js';
import { MIGE_TINY, MigeModel } from '../../src/model/index.js';
import { tempDirsPerTest } from './temp-dirs.js';
import { batchLoss, datasetFromManifest, datasetFromWorld, drawStep, emaWarmupDecay, prepareTrainBatch, readCheckpoint, resolveTrainConfig, train, TRAIN_ENGINES, trainTaskOf, type TrainConfig } from '../../src/train/index.js';

const SIZES = { imageSize: MIGE_TINY.imageSize, vitSize: MIGE_TINY.encoder.vision.imgSize };

/** One example of each task group, at the tiny model's size. */
function mixedWorld(): WorldExample[] {
  const tasks = ['subject', 'recolor', 'compose_add', 'compose_replace', 'move', 'subject'] as const;
  return tasks.map((task, i) => generateExample(3, i, { task, size: 32 }));
}

const FAST: Partial<TrainConfig> = { batchSize: 2, lr: 1e-3, warmupSteps: 0, logEvery: 1, checkpointEvery: 2 };
const quiet = { write: () => true, isTTY: false } as unknown as NodeJS.WritableStream;

function snapshot(model: MigeModel): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const [k, t] of model.stateDict()) out.set(k, t.dataSync() as Float32Array);
  for (const [k, t] of model.vae.stateDict()) out.set(`vae.${k}`, t.dataSync() as Float32Array);
  return out;
}

/** A fresh DiT outputs zeros (zero-initialised final layer): give it random outputs to compare. */
function randomizeOutputs(model: MigeModel): void {
  const rng = new Rng('outputs');
  for (const [name, p] of model.namedParameters()) {
    if (name.startsWith('final_layer.') || name.includes('scale_shift_table')) p.assign(tf.mul(rng.randn(p.shape), 0.1));
  }
}

describe('training', () => {
  const tmp = tempDirsPerTest('train');
  beforeAll(() => useBackend('wasm'));

  it('maps record tasks onto the joint groups', () => {
    expect(['subject', 'recolor', 'background', 'compose_add', 'compose_replace', 'replace'].map((t) => trainTaskOf(t, t !== 'subject', 1, 'x'))).toEqual(['subject', 'edit', 'edit', 'add', 'replace', 'replace']);
    expect([trainTaskOf('add', true, 0, 'x'), trainTaskOf('add', true, 1, 'x'), trainTaskOf(undefined, false, 0, 'x'), trainTaskOf(undefined, true, 0, 'x')]).toEqual(['edit', 'add', 'subject', 'edit']);
    expect(() => trainTaskOf('paint', true, 0, 'rec 3')).toThrow(/rec 3: unknown task "paint"/);
  });

  it('reads a dataset written by the synthetic world, grouped by task', async () => {
    const dir = tmp();
    await writeDataset(dir, mixedWorld());
    const ds = await datasetFromManifest(join(dir, 'manifest.jsonl'), SIZES);
    expect(ds.sizes).toEqual({ subject: 2, edit: 2, add: 1, replace: 1 });
    const ex = await ds.get('add', 0);
    expect([ex.task, ex.target.width, ex.entities.length, ex.entities[0]?.vit.width, ex.source?.height]).toEqual(['add', 32, 2, 28, 32]);
    expect(ex.sourceEntity).toBeGreaterThanOrEqual(0);
    await expect(ds.get('add', 5)).rejects.toThrow(/no example 5 in task "add" \(1 examples\)/);
  });

  it('draws timesteps uniformly by default and with density ∝ t^(k−1) for timestepPower k', () => {
    const none = { instruction: 0, source: 0, both: 0, caption: 0 };
    const uniform = drawStep(new Rng('t-draws'), 4000, [1, 1, 1], 1000, none);
    const same = drawStep(new Rng('t-draws'), 4000, [1, 1, 1], 1000, none, 1);
    const power = drawStep(new Rng('t-draws'), 4000, [1, 1, 1], 1000, none, 2);
    expect(Array.from(same.t)).toEqual(Array.from(uniform.t));
    const mean = (t: Int32Array) => t.reduce((a, b) => a + b, 0) / t.length;
    const above = (t: Int32Array, x: number) => t.filter((v) => v >= x).length / t.length;
    // Uniform: mean 499.5, P(t >= 800) = 0.2; k = 2: mean ≈ 666.7, P(t >= 800) = 1 − 0.8² = 0.36.
    expect(Math.abs(mean(uniform.t) - 499.5)).toBeLessThan(15); // 3.3 standard errors
    expect(Math.abs(mean(power.t) - 666.7)).toBeLessThan(12);
    expect(above(uniform.t, 800)).toBeCloseTo(0.2, 1);
    expect(above(power.t, 800)).toBeCloseTo(0.36, 1);
    expect(Math.min(...power.t)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...power.t)).toBeLessThanOrEqual(999);
    tf.dispose([uniform.noise, same.noise, power.noise]);
    expect(() => resolveTrainConfig({ timestepPower: 0.5 })).toThrow(/timestepPower must be a number in \[1, 8\], got 0.5/);
  });

  it('overfits one fixed batch of 4: the hybrid loss falls by more than 10x', async () => {
    const model = MigeModel.create(MIGE_TINY, { seed: 1 });
    const ds = datasetFromWorld(mixedWorld(), SIZES);
    const examples = await Promise.all([ds.get('subject', 0), ds.get('edit', 0), ds.get('add', 0), ds.get('replace', 0)]);
    const batch = prepareTrainBatch(model, examples, new Rng('fixed'), 'mean');
    const draws = drawStep(new Rng('fixed-draws'), 4, [4, 16, 16], 1000, { instruction: 0, source: 0, both: 0, caption: 0 });
    const params = model.trainableParameters();
    const names = new Map(params.map(([n, p]) => [p.name, n]));
    const opt = new nn.AdamW(params, { lr: 3e-3, weightDecay: 0 });
    const losses: number[] = [];
    for (let step = 0; step < 120; step++) {
      tf.tidy(() => {
        const { value, grads } = tf.variableGrads(() => batchLoss(model, batch, draws), params.map(([, p]) => p));
        losses.push(value.dataSync()[0] as number);
        opt.apply(Object.fromEntries(Object.entries(grads).map(([v, g]) => [names.get(v) as string, g])));
      });
      if (losses[0] !== undefined && (losses.at(-1) as number) < losses[0] / 20) break;
    }
    const first = losses[0] as number;
    const best = Math.min(...losses.slice(-5));
    expect(first).toBeGreaterThan(0.3);
    expect(best).toBeLessThan(first / 10);
    opt.dispose();
    model.dispose();
  });

  it('trains a v-prediction model on the v loss: the mse term is (v − v̂)² with v = α·ε − σ·x0', async () => {
    const model = MigeModel.create({ ...MIGE_TINY, prediction: 'v' }, { seed: 4 });
    randomizeOutputs(model);
    const ds = datasetFromWorld(mixedWorld(), SIZES);
    const batch = prepareTrainBatch(model, await Promise.all([ds.get('edit', 0), ds.get('subject', 0)]), new Rng('v'), 'mean');
    const draws = drawStep(new Rng('v-draws'), 2, [4, 16, 16], 1000, { instruction: 0, source: 0, both: 0, caption: 0 });
    const tables = iddpmTables();
    const expected = tf.tidy(() => {
      const a = extractIntoTensor(tables.sqrtAlphasCumprod, Array.from(draws.t)), s = extractIntoTensor(tables.sqrtOneMinusAlphasCumprod, Array.from(draws.t));
      const xT = qSample(batch.x0, draws.t, draws.noise);
      const { y, mask } = model.encoder.encode(batch.inputs, { fusion: model.fusion, patchEmbedder: model.backbone.patchEmbedder });
      const out = model.backbone.forward({ x: xT, cond: batch.cond, t: tf.tensor1d(Array.from(draws.t), 'float32'), y, mask });
      const v = tf.sub(tf.mul(a, draws.noise), tf.mul(s, batch.x0));
      const mse = tf.mean(tf.square(tf.sub(v, out.eps)), [1, 2, 3]);
      const eps = tf.add(tf.mul(a, out.eps), tf.mul(s, xT)) as Latents;
      const vb = hybridLoss({ x0: batch.x0, t: draws.t, noise: draws.noise, xT, eps, variance: out.variance as Latents }).vb;
      return tf.mean(tf.add(mse, vb)).dataSync()[0] as number;
    });
    const got = tf.tidy(() => batchLoss(model, batch, draws, { mse: 'v' }).dataSync()[0] as number);
    expect(Math.abs(got - expected)).toBeLessThanOrEqual(1e-5 * Math.max(1, expected));
    // The ε loss on the same outputs is a different number: the conversion is not a no-op.
    const epsLoss = tf.tidy(() => batchLoss(model, batch, draws, { mse: 'eps' }).dataSync()[0] as number);
    expect(Math.abs(epsLoss - got)).toBeGreaterThan(1e-3);
    model.dispose();
  });

});

/** The training loop on each engine: the same tests, the same expectations. */
describe.each(TRAIN_ENGINES)('training on the %s engine', (engine) => {
  const tmp = tempDirsPerTest('train');
  beforeAll(() => useBackend('wasm'));

  it('editFocus re-weights the loss of items with a source and leaves subject items alone', async () => {
    const firstLoss = async (world: WorldExample[], editFocus: number) => {
      const model = MigeModel.create(MIGE_TINY, { seed: 5 });
      randomizeOutputs(model);
      const res = await train({ engine, model, dataset: datasetFromWorld(world, SIZES), outDir: tmp(), config: { ...FAST, steps: 1, editFocus }, log: quiet });
      model.dispose();
      return res.losses[0] as number;
    };
    const edits = (['recolor', 'move'] as const).map((task, i) => generateExample(6, i, { task, size: 32 }));
    const subjects = [0, 1].map((i) => generateExample(6, i, { task: 'subject', size: 32 }));
    const [e0, e4, s0, s4] = [await firstLoss(edits, 0), await firstLoss(edits, 4), await firstLoss(subjects, 0), await firstLoss(subjects, 4)];
    expect(Number.isFinite(e0) && Number.isFinite(e4)).toBe(true);
    expect(Math.abs(e4 - e0)).toBeGreaterThan(1e-4 * e0);
    expect(s4).toBe(s0);
  });

  it('editFocusBelow applies the focus only to items drawn below that timestep', async () => {
    const edits = (['recolor', 'move'] as const).map((task, i) => generateExample(6, i, { task, size: 32 }));
    const firstLoss = async (config: Partial<TrainConfig>) => {
      const model = MigeModel.create(MIGE_TINY, { seed: 5 });
      randomizeOutputs(model);
      const res = await train({ engine, model, dataset: datasetFromWorld(edits, SIZES), outDir: tmp(), config: { ...FAST, steps: 1, ...config }, log: quiet });
      model.dispose();
      return res.losses[0] as number;
    };
    // The step's timesteps, drawn as the trainer draws them (step 0, micro-batch 0).
    const cfg = resolveTrainConfig({ ...FAST, steps: 1 });
    const draws = drawStep(new Rng(cfg.seed).fork('step/0/0'), 2, [4, 4, 4], 1000, cfg.dropout, cfg.timestepPower);
    const ts = Array.from(draws.t);
    draws.noise.dispose();
    const [plain, focused] = [await firstLoss({ editFocus: 0 }), await firstLoss({ editFocus: 4 })];
    expect(Math.abs(focused - plain)).toBeGreaterThan(1e-4 * plain);
    // Every item at or above the bound: uniform, bit for bit; every item below it: the full focus.
    expect(Math.min(...ts)).toBeGreaterThan(0);
    expect(await firstLoss({ editFocus: 4, editFocusBelow: Math.min(...ts) })).toBe(plain);
    expect(await firstLoss({ editFocus: 4, editFocusBelow: Math.min(1000, Math.max(...ts) + 1) })).toBe(focused);
    expect(() => resolveTrainConfig({ editFocusBelow: 0 })).toThrow(/editFocusBelow must be an integer timestep in \[1, 1000\], got 0/);
  });

  it('trains every module but the ViT and the VAE, which stay bit-identical', async () => {
    const model = MigeModel.create(MIGE_TINY, { seed: 2 });
    const before = snapshot(model);
    const res = await train({ engine, model, dataset: datasetFromWorld(mixedWorld(), SIZES), outDir: tmp(), config: { ...FAST, steps: 2 }, log: quiet });
    expect(res.losses).toHaveLength(2);
    const after = snapshot(model);
    const changed = (k: string) => !Buffer.from((before.get(k) as Float32Array).buffer).equals(Buffer.from((after.get(k) as Float32Array).buffer));
    const keys = [...before.keys()];
    const frozen = keys.filter((k) => k.startsWith('visual_encoder.') || k.startsWith('vae.'));
    expect(frozen.length).toBeGreaterThan(10);
    expect(frozen.filter(changed)).toEqual([]);
    for (const prefix of ['ln_vision.', 'Qformer.', 'query_tokens', 't5_proj.', 't5_model.', 'FFM.', 'blocks.', 'x_embedder.', 't_embedder.']) {
      expect([prefix, keys.some((k) => k.startsWith(prefix) && changed(k))]).toEqual([prefix, true]);
    }
    model.dispose();
  });

  it('resumes bit-exactly: 4 steps = 2 steps + resume + 2 steps (with accumulation and EMA)', async () => {
    const config = { ...FAST, gradAccumSteps: 2, emaDecay: 0.9, steps: 4 };
    const dataset = datasetFromWorld(mixedWorld(), SIZES);
    const straight = MigeModel.create(MIGE_TINY, { seed: 4 });
    const a = await train({ engine, model: straight, dataset, outDir: tmp(), config, log: quiet });
    const out = tmp();
    const first = MigeModel.create(MIGE_TINY, { seed: 4 });
    await train({ engine, model: first, dataset, outDir: out, config: { ...config, steps: 2 }, log: quiet });
    first.dispose();
    // Same frozen VAE (it lives in the model folder, not in training checkpoints); every other
    // tensor is scrambled, so all of them must come from the checkpoint.
    const resumed = MigeModel.create(MIGE_TINY, { seed: 4 });
    const scramble = new Rng('scramble');
    for (const [, p] of resumed.namedParameters()) p.assign(tf.tidy(() => scramble.randn(p.shape)));
    const b = await train({ engine, model: resumed, dataset, outDir: out, config, resume: true, log: quiet });
    expect(b.step).toBe(4);
    expect(b.losses).toEqual(a.losses.slice(2));
    const x = snapshot(straight), y = snapshot(resumed);
    const differ = [...x.keys()].filter((k) => !k.startsWith('vae.') && !Buffer.from((x.get(k) as Float32Array).buffer).equals(Buffer.from((y.get(k) as Float32Array).buffer)));
    expect(differ).toEqual([]);
    const ema = JSON.parse(readFileSync(join(out, 'latest.json'), 'utf8')) as { step: number };
    expect(ema.step).toBe(4);
    expect(existsSync(join(out, 'step-00000004', 'ema.safetensors'))).toBe(true);
    straight.dispose();
    resumed.dispose();
  });

  it('stopAt stops inside a cosine schedule that a resume then finishes exactly', async () => {
    const config = { ...FAST, lrSchedule: 'cosine' as const, minLrRatio: 0.1, steps: 4 };
    const dataset = datasetFromWorld(mixedWorld(), SIZES);
    const straight = MigeModel.create(MIGE_TINY, { seed: 7 });
    const a = await train({ engine, model: straight, dataset, outDir: tmp(), config, log: quiet });
    const out = tmp();
    const staged = MigeModel.create(MIGE_TINY, { seed: 7 });
    const first = await train({ engine, model: staged, dataset, outDir: out, config, stopAt: 2, log: quiet });
    expect([first.step, first.losses]).toEqual([2, a.losses.slice(0, 2)]);
    const lrs = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { lr: number }).lr);
    // Still on the 4-step cosine: step 2's lr is the schedule's value there, not its end.
    expect(lrs[1]).toBeGreaterThan(0.5 * (FAST.lr as number));
    const second = await train({ engine, model: staged, dataset, outDir: out, config, resume: true, log: quiet });
    expect([second.step, second.losses]).toEqual([4, a.losses.slice(2)]);
    const x = snapshot(straight), y = snapshot(staged);
    expect([...x.keys()].filter((k) => !Buffer.from((x.get(k) as Float32Array).buffer).equals(Buffer.from((y.get(k) as Float32Array).buffer)))).toEqual([]);
    straight.dispose();
    staged.dispose();
  });

  it('warms the EMA up (emaWarmup): after one step the shadow is 0.1·initial + 0.9·trained', async () => {
    expect([emaWarmupDecay(0.9995, 0), emaWarmupDecay(0.9995, 10), emaWarmupDecay(0.9995, 1e6)]).toEqual([0.1, 0.55, 0.9995]);
    const model = MigeModel.create(MIGE_TINY, { seed: 6 });
    const before = snapshot(model);
    const out = tmp();
    await train({ engine, model, dataset: datasetFromWorld(mixedWorld(), SIZES), outDir: out, config: { ...FAST, steps: 1, emaDecay: 0.9999, emaWarmup: true }, log: quiet });
    const after = snapshot(model);
    const ck = readCheckpoint(out);
    const name = 'final_layer.linear.weight';
    const want = (after.get(name) as Float32Array).map((v, i) => 0.1 * ((before.get(name) as Float32Array)[i] as number) + 0.9 * v);
    const got = (ck.ema as Map<string, tf.Tensor>).get(name)?.dataSync() as Float32Array;
    expect(Math.max(...got.map((v, i) => Math.abs(v - (want[i] as number))))).toBeLessThan(1e-6);
    expect(Math.max(...(after.get(name) as Float32Array).map((v, i) => Math.abs(v - ((before.get(name) as Float32Array)[i] as number))))).toBeGreaterThan(1e-4);
    model.dispose();
  });

  it('stops within one step when aborted and keeps a checkpoint of the finished steps', async () => {
    const model = MigeModel.create(MIGE_TINY, { seed: 5 });
    const out = tmp();
    const controller = new AbortController();
    const run = train({ engine, model, dataset: datasetFromWorld(mixedWorld(), SIZES), outDir: out, config: { ...FAST, steps: 50, checkpointEvery: 100 }, log: quiet, signal: controller.signal, onProgress: (e) => e.step === 3 && controller.abort() });
    await expect(run).rejects.toBeInstanceOf(MigeAbortError);
    expect(JSON.parse(readFileSync(join(out, 'latest.json'), 'utf8'))).toMatchObject({ step: 3 });
    const lines = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n');
    expect(lines).toHaveLength(3);
    model.dispose();
  });

  it('follows a cosine learning-rate schedule down to minLrRatio · lr at the last step', async () => {
    const model = MigeModel.create(MIGE_TINY, { seed: 7 });
    const lrs: number[] = [];
    await train({ engine, model, dataset: datasetFromWorld(mixedWorld(), SIZES), outDir: tmp(), log: quiet, config: { ...FAST, steps: 3, lr: 0.01, lrSchedule: 'cosine', minLrRatio: 0.25 }, onProgress: (e) => lrs.push(e.info?.lr ?? NaN) });
    expect(lrs.map((v) => Number(v.toFixed(6)))).toEqual([0.008125, 0.004375, 0.0025]);
    model.dispose();
  });

  it('rejects configs and datasets it cannot train on', async () => {
    const model = MigeModel.create(MIGE_TINY, { seed: 6 });
    const dataset = datasetFromWorld([...streamExamples({ seed: 1, count: 2, size: 32, task: 'recolor' })], SIZES);
    await expect(train({ engine, model, dataset, outDir: tmp(), config: { steps: 0 }, log: quiet })).rejects.toThrow(/steps must be an integer >= 1/);
    await expect(train({ engine, model, dataset, outDir: tmp(), config: { taskRatios: { subject: 1, edit: 0, add: 0, replace: 0 } }, log: quiet })).rejects.toThrow(/no task group has both data and a ratio > 0/);
    model.dispose();
  });
});
