// A third diffusion backbone, written here in the test as a user would write one: registered
// with registerBackbone, built into a MigeModel from a config that names it, trained for a few
// steps with train(), saved and loaded back, and sampled through MigePipeline.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nn, tf, type BackboneInput, type BackboneOutput, type DiffusionBackbone, type Latents, type PatchEmbedder, type TokenSequence } from '@mige/core';
import { useBackend } from '@mige/core/testing';
import { generateExample } from '@mige/data';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIGE_TINY, MigeModel, loadModel, registerBackbone, saveModel, unregisterBackbone, type CustomBackboneConfig, type MigeConfig } from '../../src/model/index.js';
import { MigePipeline } from '../../src/pipeline/index.js';
import { datasetFromWorld, train } from '../../src/train/index.js';

/** The config of the test's backbone: MIGE's wiring fields plus its own `mlpWidth`. */
interface MlpMixerConfig extends CustomBackboneConfig {
  type: 'test-mlp';
  patchSize: number;
  mlpWidth: number;
}

/** Cuts x [B, C, H, W] into p×p patches, flattened channel-major, and projects each with one Linear. */
class LinearPatchEmbedder extends nn.Module implements PatchEmbedder {
  readonly proj: nn.Linear;
  constructor(readonly inChannels: number, readonly hiddenSize: number, readonly patchSize: number) {
    super();
    this.proj = this.module('proj', new nn.Linear(inChannels * patchSize * patchSize, hiddenSize));
  }
  embed(x: tf.Tensor4D): TokenSequence {
    return tf.tidy(() => {
      const [b, c, h, w] = x.shape;
      const p = this.patchSize;
      const patches = tf.transpose(tf.reshape(x, [b, c, h / p, p, w / p, p]), [0, 2, 4, 1, 3, 5]);
      return this.proj.forward(tf.reshape(patches, [b, (h / p) * (w / p), c * p * p])) as TokenSequence;
    });
  }
}

/**
 * A small non-transformer backbone: patch tokens + a time embedding + the masked mean of the
 * condition, a 2-layer MLP per token, unpatchified to ε and the variance values.
 */
class MlpNet extends nn.Module {
  readonly xEmbedder: LinearPatchEmbedder;
  readonly time: nn.Linear;
  readonly caption: nn.Linear;
  readonly fc1: nn.Linear;
  readonly fc2: nn.Linear;
  readonly nullY: tf.Variable;

  constructor(readonly config: MlpMixerConfig) {
    super();
    const { inChannels: c, hiddenSize: d, patchSize: p } = config;
    this.xEmbedder = this.module('x_embedder', new LinearPatchEmbedder(2 * c, d, p));
    this.time = this.module('t_embedder', new nn.Linear(1, d));
    this.caption = this.module('y_proj', new nn.Linear(config.captionChannels, d));
    this.fc1 = this.module('fc1', new nn.Linear(d, config.mlpWidth));
    this.fc2 = this.module('fc2', new nn.Linear(config.mlpWidth, p * p * 2 * c));
    this.nullY = this.param('y_embedding', tf.mul(tf.randomNormal([config.modelMaxLength, config.captionChannels], 0, 1, 'float32', 3), 0.02));
  }
}

class MlpBackbone implements DiffusionBackbone {
  readonly learnSigma = true;
  readonly captionChannels: number;
  readonly maxLength: number;
  readonly patchEmbedder: LinearPatchEmbedder;
  readonly module: MlpNet;

  constructor(readonly config: MlpMixerConfig) {
    this.module = new MlpNet(config);
    this.captionChannels = config.captionChannels;
    this.maxLength = config.modelMaxLength;
    this.patchEmbedder = this.module.xEmbedder;
  }

  forward(input: BackboneInput): BackboneOutput {
    return tf.tidy(() => {
      const { x, cond, t, y, mask } = input;
      const [b, c, h, w] = x.shape;
      const p = this.config.patchSize;
      const net = this.module;
      const tokens = this.patchEmbedder.embed(tf.concat([x, cond], 1) as tf.Tensor4D);
      const m = tf.expandDims(tf.cast(mask, 'float32'), 2);
      const pooled = tf.div(tf.sum(tf.mul(y, m), 1), tf.maximum(tf.sum(m, 1), 1));
      const ctx = tf.add(net.time.forward(tf.reshape(tf.div(t, 1000), [b, 1])), net.caption.forward(pooled));
      const hidden = tf.relu(net.fc1.forward(tf.add(tokens, tf.expandDims(ctx, 1))));
      const out = net.fc2.forward(hidden); // [B, (h/p)(w/p), p·p·2c]
      const grid = tf.reshape(out, [b, h / p, w / p, p, p, 2 * c]);
      const image = tf.reshape(tf.transpose(grid, [0, 5, 1, 3, 2, 4]), [b, 2 * c, h, w]);
      const [eps, variance] = tf.split(image, 2, 1) as [Latents, Latents];
      return { eps, variance };
    });
  }

  nullCondition(): tf.Tensor2D {
    return this.module.nullY.clone() as tf.Tensor2D;
  }
}

function testConfig(): MigeConfig {
  const { backbone } = MIGE_TINY;
  const mlp: MlpMixerConfig = {
    type: 'test-mlp',
    inputSize: backbone.inputSize,
    inChannels: backbone.inChannels,
    hiddenSize: backbone.hiddenSize,
    captionChannels: backbone.captionChannels,
    modelMaxLength: backbone.modelMaxLength,
    learnSigma: true,
    patchSize: 2,
    mlpWidth: 96,
  };
  return { ...MIGE_TINY, name: 'mige-tiny-mlp', backbone: mlp };
}

describe('a user-defined backbone', () => {
  const dirs: string[] = [];
  beforeAll(async () => {
    await useBackend('wasm');
    registerBackbone<MlpMixerConfig>('test-mlp', {
      create: (config) => new MlpBackbone(config),
      validate: (config) => {
        if (!Number.isInteger(config.mlpWidth) || config.mlpWidth < 1) throw new Error(`mlpWidth must be a positive integer, got ${config.mlpWidth}`);
      },
    });
  });
  afterAll(() => {
    unregisterBackbone('test-mlp');
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('builds into a MigeModel, trains with train(), reloads from its folder and generates', async () => {
    const model = MigeModel.create(testConfig(), { seed: 1 });
    expect(model.backbone).toBeInstanceOf(MlpBackbone);
    const before = (model.backbone as MlpBackbone).module.namedParameters().map(([n, v]) => [n, v.dataSync().slice()] as const);
    const out = mkdtempSync(join(tmpdir(), 'mige-custom-backbone-'));
    dirs.push(out);
    const world = (['subject', 'recolor', 'compose_add', 'move'] as const).map((task, i) => generateExample(11, i, { task, size: 32 }));
    const quiet = { write: () => true, isTTY: false } as unknown as NodeJS.WritableStream;
    const res = await train({
      model,
      dataset: datasetFromWorld(world, { imageSize: 32, vitSize: MIGE_TINY.encoder.vision.imgSize }),
      outDir: join(out, 'run'),
      config: { batchSize: 2, lr: 3e-3, warmupSteps: 0, steps: 3, logEvery: 1, checkpointEvery: 3 },
      log: quiet,
    });
    expect(res.losses).toHaveLength(3);
    for (const loss of res.losses) expect(Number.isFinite(loss) && loss > 0).toBe(true);
    // Every parameter of the backbone's own layers moved.
    const after = new Map((model.backbone as MlpBackbone).module.namedParameters().map(([n, v]) => [n, v.dataSync()]));
    for (const [name, was] of before) expect(Buffer.from(was.buffer).equals(Buffer.from((after.get(name) as Float32Array).buffer)), `${name} did not train`).toBe(false);

    // Saved with its config, it loads back through the registry with the same weights.
    const dir = join(out, 'model');
    saveModel(model, dir);
    const loaded = loadModel(dir);
    expect(loaded.config.backbone).toEqual(model.config.backbone);
    expect(loaded.backbone).toBeInstanceOf(MlpBackbone);
    const pipe = MigePipeline.fromModel(loaded);
    const subject = world[0]?.entities[0];
    const a = await pipe.generate({ instruction: '<imagehere> on a plain background', images: [subject!], steps: 4, seed: 2, outputType: 'latents' });
    const direct = MigePipeline.fromModel(model);
    const b = await direct.generate({ instruction: '<imagehere> on a plain background', images: [subject!], steps: 4, seed: 2, outputType: 'latents' });
    expect(a.images.shape).toEqual([1, 4, 16, 16]);
    expect(tf.tidy(() => tf.max(tf.abs(tf.sub(a.images, b.images))).dataSync()[0])).toBe(0);
    expect(tf.tidy(() => tf.moments(a.images).variance.dataSync()[0])).toBeGreaterThan(0);
    tf.dispose([a.images, b.images]);
    const png = await pipe.generate({ instruction: '<imagehere> on a plain background', images: [subject!], steps: 2, outputType: 'rgb' });
    expect([png.images[0]?.width, png.images[0]?.height]).toEqual([32, 32]);
    await pipe.dispose();
    await direct.dispose();
  });

  it("refuses a config whose type is not registered, and checks the type's own fields", () => {
    expect(() => MigeModel.create({ ...testConfig(), backbone: { ...testConfig().backbone, type: 'nope' } })).toThrow(/backbone: type is "nope", expected one of 'pixart', 'dit-adaln-zero', 'test-mlp'/);
    expect(() => MigeModel.create({ ...testConfig(), backbone: { ...testConfig().backbone, mlpWidth: 0 } })).toThrow(/mlpWidth must be a positive integer, got 0/);
    expect(() => registerBackbone('pixart', { create: () => { throw new Error('unused'); } })).toThrow(/built-in/);
  });
});
