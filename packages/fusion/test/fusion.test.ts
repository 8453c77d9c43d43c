// Construction, initialisation, selection by config, input validation and training of the
// fusion module, beyond the fixture parity of the other test files.
import { MigeInputError, nn, tf, type Latents, type TokenSequence } from '@mige/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { createFusion, FFM, FFM_MIGE, FFM_TINY, FfmFusion, NoFusion, validateFfmConfig, type FusionItem } from '../src/index.js';
import { ConvPatchEmbedder, expectClose, maxAbsDiff, TEST_BACKENDS, useBackend } from './helpers.js';

const tokens = (n: number, seed = 1) => tf.randomNormal([n, 8, 48], 0, 1, 'float32', seed) as TokenSequence;
const latents = (n: number, seed = 2) => tf.randomNormal([n, 4, 8, 8], 0, 1, 'float32', seed) as Latents;

describe.each(TEST_BACKENDS)('fusion on %s', (backend) => {
  beforeAll(() => useBackend(backend));

  it('builds MIGE’s FFM with the reference sizes', () => {
    const ffm = nn.withoutInit(() => new FFM(FFM_MIGE));
    const shapes = Object.fromEntries([...ffm.stateDict()].map(([k, t]) => [k, t.shape]));
    expect(shapes['q_proj_1.weight']).toEqual([768, 768]);
    expect(shapes['k_proj_1.0.weight']).toEqual([768, 1152]);
    expect(shapes['v_proj_1.2.weight']).toEqual([768, 768]);
    expect(shapes['clip_attn.in_proj_weight']).toEqual([2304, 768]);
    expect(ffm.clip_attn.numHeads).toBe(8);
    expect(ffm.numParameters()).toBe(6_501_120);
    ffm.dispose();
  });

  it('initialises as MIGE: zero mlp, zero biases, N(0, 0.02²) linears, so a fresh FFM is ln_out(clip)', () => {
    nn.manualSeed('fusion-init');
    const ffm = new FFM(FFM_TINY);
    expect(tf.max(tf.abs(ffm.mlp.weight)).dataSync()[0]).toBe(0);
    expect(tf.max(tf.abs(ffm.mlp.bias as tf.Tensor)).dataSync()[0]).toBe(0);
    expect(tf.max(tf.abs(ffm.k_proj_1.fc1.bias as tf.Tensor)).dataSync()[0]).toBe(0);
    const w = ffm.k_proj_1.fc1.weight;
    const std = Math.sqrt(tf.moments(w).variance.dataSync()[0] as number);
    expect(std).toBeGreaterThan(0.018);
    expect(std).toBeLessThan(0.022);
    const clip = tokens(2);
    const vae = tf.randomNormal([2, 16, 64], 0, 1, 'float32', 3) as TokenSequence;
    expectClose(ffm.forward(clip, vae), ffm.ln_out.forward(clip), 1e-6, 'fresh FFM');
  });

  it('nn.withoutInit skips the random draws', () => {
    const ffm = nn.withoutInit(() => new FFM(FFM_TINY));
    expect(tf.max(tf.abs(ffm.q_proj_1.weight)).dataSync()[0]).toBe(0);
  });

  it('createFusion picks the implementation the config names', () => {
    const ffm = createFusion({ type: 'ffm', ffm: FFM_TINY });
    expect(ffm).toBeInstanceOf(FfmFusion);
    expect(ffm.module).toBeInstanceOf(FFM);
    const none = createFusion({ type: 'none' });
    expect(none).toBeInstanceOf(NoFusion);
    expect(none.module).toBeUndefined();
    expect(() => createFusion({ type: 'bogus' } as unknown as Parameters<typeof createFusion>[0])).toThrow(MigeInputError);
  });

  it('NoFusion returns the Q-Former tokens unchanged, per item too', () => {
    const embedder = new ConvPatchEmbedder(8, 64, 2);
    const none = new NoFusion();
    const q = tokens(3);
    const out = none.fuse(q, latents(3), embedder);
    expect(out).not.toBe(q);
    expect(maxAbsDiff(out, q)).toBe(0);
    const items: FusionItem[] = [
      { tokens: tokens(4, 5), latents: latents(4) },
      { tokens: tokens(1, 6), latents: latents(1) },
      { tokens: tf.zeros([0, 8, 48]), latents: tf.zeros([0, 4, 8, 8]) },
    ];
    const outs = none.fuseBatch(items, embedder);
    outs.forEach((o, i) => expect(maxAbsDiff(o, (items[i] as FusionItem).tokens)).toBe(0));
  });

  it('fuseBatch equals fuse per item, also with mixed latent sizes', () => {
    nn.manualSeed('fusion-batch');
    const fusion = new FfmFusion(new FFM(FFM_TINY));
    // Non-zero mlp so the attention path shows in the output.
    fusion.module.mlp.weight.assign(tf.randomUniform([48, 48], -0.2, 0.2, 'float32', 7));
    const embedder = new ConvPatchEmbedder(8, 64, 2);
    const items: FusionItem[] = [
      { tokens: tokens(2, 8), latents: latents(2, 9) },
      { tokens: tokens(0), latents: tf.zeros([0, 4, 4, 6]) },
      { tokens: tokens(3, 10), latents: tf.randomNormal([3, 4, 4, 6], 0, 1, 'float32', 11) as Latents },
      { tokens: tokens(1, 12), latents: latents(1, 13) },
    ];
    const outs = fusion.fuseBatch(items, embedder);
    expect(outs.map((o) => o.shape)).toEqual([[2, 8, 48], [0, 8, 48], [3, 8, 48], [1, 8, 48]]);
    items.forEach((it, i) => {
      if (it.tokens.shape[0] > 0) expectClose(outs[i] as tf.Tensor, fusion.fuse(it.tokens, it.latents, embedder), 1e-5, `item ${i}`);
    });
  });

  it('rejects bad inputs with MigeInputError', () => {
    const fusion = createFusion({ type: 'ffm', ffm: FFM_TINY });
    const embedder = new ConvPatchEmbedder(8, 64, 2);
    const bad = (f: () => unknown) => expect(f).toThrow(MigeInputError);
    bad(() => fusion.fuse(tokens(2), latents(3), embedder));
    bad(() => fusion.fuse(tf.zeros([2, 8, 32]) as TokenSequence, latents(2), embedder));
    bad(() => fusion.fuse(tokens(2), tf.zeros([2, 8, 8, 8]) as Latents, embedder));
    bad(() => fusion.fuse(tokens(2), tf.zeros([2, 4, 7, 8]) as Latents, embedder));
    bad(() => fusion.fuse(tokens(2), latents(2), new ConvPatchEmbedder(8, 32, 2)));
    bad(() => fusion.fuse(tokens(2), latents(2), new ConvPatchEmbedder(2, 64, 2)));
    bad(() => fusion.fuseBatch([{ tokens: tokens(2), latents: latents(1) }], embedder));
    bad(() => new NoFusion().fuse(tf.zeros([2, 8]) as unknown as TokenSequence, latents(2), embedder));
    const ffm = nn.withoutInit(() => new FFM(FFM_TINY));
    bad(() => ffm.forward(tokens(2), tf.zeros([3, 16, 64]) as TokenSequence));
    bad(() => ffm.forward(tokens(2), tf.zeros([2, 16, 48]) as TokenSequence));
    bad(() => validateFfmConfig({ ...FFM_TINY, numHeads: 5 }));
    bad(() => validateFfmConfig({ ...FFM_TINY, kvDim: 32 }));
    bad(() => validateFfmConfig({ ...FFM_TINY, vaeDim: 0 }));
    bad(() => validateFfmConfig({ ...FFM_TINY, eps: 0 }));
  });

  it('trains: gradients reach every FFM parameter through fuse', () => {
    nn.manualSeed('fusion-grad');
    const fusion = new FfmFusion(new FFM(FFM_TINY));
    const embedder = new ConvPatchEmbedder(8, 64, 2);
    const q = tokens(2), l = latents(2);
    const params = fusion.module.trainableParameters();
    const { grads } = tf.variableGrads(() => tf.sum(tf.square(fusion.fuse(q, l, embedder))) as tf.Scalar, params.map(([, p]) => p));
    for (const [name, p] of params) {
      const g = grads[p.name];
      expect(g, name).toBeDefined();
      expect(Number.isFinite(tf.sum(g as tf.Tensor).dataSync()[0]), name).toBe(true);
    }
    // A fresh FFM's zero mlp still gets a gradient, so fusion can learn to open up.
    expect(tf.max(tf.abs(grads[fusion.module.mlp.weight.name] as tf.Tensor)).dataSync()[0]).toBeGreaterThan(0);
  });
});
