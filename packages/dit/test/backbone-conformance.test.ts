// One conformance suite for core's DiffusionBackbone interface, run against both backbones this
// package builds from config: whatever the block design, pipelines can sample and train through it.
import { MigeInputError, nn, Rng, tf, type BackboneInput, type DiffusionBackbone, type Latents, type TokenMask, type TokenSequence } from '@mige/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { createBackbone, DIT_ADALN_ZERO_TINY, MIGE_TINY, type DitConfig } from '../src/index.js';
import { maxAbsDiff, randomizeParameters, useBackend } from './helpers.js';

const BACKBONES: [string, Readonly<DitConfig>][] = [
  ['pixart', MIGE_TINY],
  ['dit-adaln-zero', DIT_ADALN_ZERO_TINY],
];

/** A batch of B samples with the given valid caption lengths (mask 1 then 0). */
function makeInput(backbone: DiffusionBackbone, lengths: number[], seed: string): BackboneInput {
  const rng = new Rng(seed);
  const b = lengths.length, l = backbone.maxLength;
  const mask = tf.tensor2d(lengths.flatMap((n) => Array.from({ length: l }, (_, j) => (j < n ? 1 : 0))), [b, l]) as TokenMask;
  return {
    x: rng.randn([b, 4, 8, 8]) as Latents,
    cond: rng.randn([b, 4, 8, 8]) as Latents,
    t: tf.tensor1d(lengths.map((_, i) => [999, 17, 500, 250][i % 4] as number)),
    y: rng.randn([b, l, backbone.captionChannels]) as TokenSequence,
    mask,
  };
}

/** Linear β schedule over 1000 steps: ᾱ_t. */
function alphaBar(t: number): number {
  let a = 1;
  for (let i = 0; i <= t; i++) a *= 1 - (1e-4 + ((0.02 - 1e-4) * i) / 999);
  return a;
}

describe.each(BACKBONES)('DiffusionBackbone conformance: %s', (_name, config) => {
  let backbone: DiffusionBackbone;

  beforeAll(async () => {
    await useBackend('wasm');
    nn.manualSeed('conformance');
    backbone = createBackbone(config);
    randomizeParameters(backbone.module, `weights-${config.type}`);
  });

  it('returns ε and the learned-sigma half with the latent shape', () => {
    expect(backbone.learnSigma).toBe(true);
    const { eps, variance } = backbone.forward(makeInput(backbone, [16, 9, 3], 'shapes'));
    expect(eps.shape).toEqual([3, 4, 8, 8]);
    expect(variance?.shape).toEqual([3, 4, 8, 8]);
    const plain = createBackbone({ ...config, learnSigma: false });
    const out = plain.forward(makeInput(plain, [4], 'no-sigma'));
    expect(plain.learnSigma).toBe(false);
    expect(out.eps.shape).toEqual([1, 4, 8, 8]);
    expect(out.variance).toBeUndefined();
  });

  it('ignores padded condition tokens and reacts to valid ones', () => {
    const input = makeInput(backbone, [16, 5], 'mask');
    const base = backbone.forward(input).eps;
    // Sample 1 has 5 valid tokens: rewrite its padding (tokens 5..15) only.
    const keep = tf.concat([tf.ones([1, 16, 1]), tf.concat([tf.ones([1, 5, 1]), tf.zeros([1, 11, 1])], 1)], 0);
    const noise = tf.mul(tf.randomNormal(input.y.shape, 0, 10, 'float32', 7), tf.sub(1, keep));
    const padded = backbone.forward({ ...input, y: tf.add(input.y, noise) as TokenSequence }).eps;
    expect(maxAbsDiff(padded, base)).toBeLessThanOrEqual(1e-6);
    const validChanged = tf.add(input.y, tf.mul(tf.onesLike(input.y), tf.mul(keep, 0.5))) as TokenSequence;
    expect(maxAbsDiff(backbone.forward({ ...input, y: validChanged }).eps, base)).toBeGreaterThan(1e-3);
  });

  it('gives the null condition as [maxLength, captionChannels] (a copy)', () => {
    const nullY = backbone.nullCondition();
    expect(nullY.shape).toEqual([backbone.maxLength, backbone.captionChannels]);
    nullY.dispose();
    expect(backbone.nullCondition().shape).toEqual([16, 32]);
  });

  it('rejects wrong input shapes with the expected and the actual shape', () => {
    const ok = makeInput(backbone, [16, 9], 'errors');
    const bad = (patch: Partial<BackboneInput>) => () => backbone.forward({ ...ok, ...patch });
    expect(bad({ x: tf.zeros([2, 4, 4, 4]) as Latents })).toThrow(/x has shape \[2, 4, 4, 4\], expected \[B, 4, 8, 8\]/);
    expect(bad({ cond: tf.zeros([2, 3, 8, 8]) as Latents })).toThrow(/cond has shape \[2, 3, 8, 8\], expected \[B=2, 4, 8, 8\]/);
    expect(bad({ t: tf.zeros([3]) as tf.Tensor1D })).toThrow(/t has shape \[3\], expected \[B=2\]/);
    expect(bad({ y: tf.zeros([2, 16, 31]) as TokenSequence })).toThrow(/y has shape \[2, 16, 31\], expected \[B=2, L, 32\]/);
    expect(bad({ mask: tf.ones([2, 12]) as TokenMask })).toThrow(/mask has shape \[2, 12\], expected \[B=2, L=16\]/);
    expect(bad({ y: tf.zeros([2, 17, 32]) as TokenSequence, mask: tf.ones([2, 17]) as TokenMask })).toThrow(/y has 17 tokens; this model takes at most 16/);
    expect(bad({ mask: tf.fill([2, 16], 0.5) as TokenMask })).toThrow(/mask\[0, 0\] is 0.5/);
    expect(bad({ mask: tf.concat([tf.ones([1, 16]), tf.zeros([1, 16])]) as TokenMask })).toThrow(/mask\[1\] has no valid token/);
    expect(bad({ x: tf.zeros([2, 4, 4, 4]) as Latents })).toThrow(MigeInputError);
    expect(() => backbone.patchEmbedder.embed(tf.zeros([1, 4, 8, 8]))).toThrow(/x has shape \[1, 4, 8, 8\], expected \[B, 8, H, W\]/);
  });

  it('sends gradients to every trainable parameter', () => {
    const input = makeInput(backbone, [16, 7], 'grads');
    const rng = new Rng('grad-weights');
    const [r1, r2] = [rng.randn([2, 4, 8, 8]), rng.randn([2, 4, 8, 8])];
    const params = backbone.module.trainableParameters();
    const { value, grads } = tf.variableGrads(() => {
      const { eps, variance } = backbone.forward(input);
      return tf.add(tf.sum(tf.mul(eps, r1)), tf.sum(tf.mul(variance as tf.Tensor, r2))) as tf.Scalar;
    }, params.map(([, p]) => p));
    expect(Number.isFinite(value.dataSync()[0])).toBe(true);
    const dead = params.filter(([, p]) => {
      const g = grads[p.name];
      if (!g) return true;
      const norm = tf.tidy(() => tf.norm(g).dataSync()[0] as number);
      return !(norm > 0 && Number.isFinite(norm));
    });
    expect(dead.map(([n]) => n)).toEqual([]);
    expect(params.length).toBeGreaterThan(30);
  });

  it('trains: AdamW lowers the ε-MSE on a fixed batch', () => {
    nn.manualSeed(`train-${config.type}`);
    const model = createBackbone(config); // the reference initialisation, zero output layer
    const rng = new Rng('train-batch');
    const x0 = rng.randn([4, 4, 8, 8]);
    const noise = rng.randn([4, 4, 8, 8]);
    const steps = [50, 300, 600, 900];
    const ab = tf.tensor(steps.map(alphaBar), [4, 1, 1, 1]);
    const input: BackboneInput = {
      ...makeInput(model, [16, 9, 4, 12], 'train-cond'),
      x: tf.add(tf.mul(tf.sqrt(ab), x0), tf.mul(tf.sqrt(tf.sub(1, ab)), noise)) as Latents,
      t: tf.tensor1d(steps),
    };
    const params = model.module.trainableParameters();
    const byVar = new Map(params.map(([n, p]) => [p.name, n]));
    const opt = new nn.AdamW(params, { lr: 2e-3, weightDecay: 0 });
    const losses: number[] = [];
    for (let step = 0; step < 30; step++) {
      tf.tidy(() => {
        const { value, grads } = tf.variableGrads(() => tf.mean(tf.squaredDifference(model.forward(input).eps, noise)) as tf.Scalar, params.map(([, p]) => p));
        losses.push(value.dataSync()[0] as number);
        opt.apply(Object.fromEntries(Object.entries(grads).map(([v, g]) => [byVar.get(v) as string, g])));
      });
    }
    const first = losses[0] as number, last = losses[losses.length - 1] as number;
    expect(first).toBeGreaterThan(0.5);
    expect(last).toBeLessThan(0.5 * first);
  });

  it('samples: a few guided DDIM steps through the interface give finite latents', () => {
    const cond = makeInput(backbone, [9], 'sample');
    const nullY = backbone.nullCondition();
    let x = new Rng('x_T').randn([1, 4, 8, 8]) as Latents;
    const times = [999, 749, 499, 249, 0];
    times.forEach((t, i) => {
      const prev = times[i + 1];
      const next = tf.tidy(() => {
        // One batch of two branches: (null caption, caption), combined with guidance scale 4.
        const { eps } = backbone.forward({
          x: tf.concat([x, x]) as Latents,
          cond: tf.concat([cond.cond, cond.cond]) as Latents,
          t: tf.tensor1d([t, t]),
          y: tf.concat([tf.expandDims(nullY, 0), cond.y]) as TokenSequence,
          mask: tf.concat([cond.mask, cond.mask]) as TokenMask,
        });
        const [u, c] = tf.split(eps, 2) as [tf.Tensor, tf.Tensor];
        const e = tf.add(u, tf.mul(tf.sub(c, u), 4));
        const a = alphaBar(t), aPrev = prev === undefined ? 1 : alphaBar(prev);
        const x0 = tf.div(tf.sub(x, tf.mul(e, Math.sqrt(1 - a))), Math.sqrt(a));
        return tf.add(tf.mul(x0, Math.sqrt(aPrev)), tf.mul(e, Math.sqrt(1 - aPrev))) as Latents;
      });
      x.dispose();
      x = next;
    });
    expect(x.shape).toEqual([1, 4, 8, 8]);
    const values = x.dataSync();
    expect(values.every(Number.isFinite)).toBe(true);
    expect(Math.max(...values.map(Math.abs))).toBeGreaterThan(0);
  });
});
