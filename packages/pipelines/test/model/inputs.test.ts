import { MigeInputError, Rng, tf, type Latents } from '@mige/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeInstructions, encodeLatents, MIGE_TINY, MigeModel, prepareImages, type Instruction } from '../../src/model/index.js';
import { maxAbsDiff, randomizeAll, TEST_BACKENDS, testImage, useBackend } from './helpers.js';

const Q = MIGE_TINY.encoder.qformer.numQueryTokens;

describe.each(TEST_BACKENDS)('model inputs on %s', (backend) => {
  let model: MigeModel;
  let items: Instruction[];
  beforeAll(async () => {
    await useBackend(backend);
    model = MigeModel.create(MIGE_TINY, { seed: 2 });
    randomizeAll(model, 'inputs');
    items = [
      { text: 'a dog <imagehere> and a cat <imagehere> on the grass', images: [testImage(40, 32, 1), testImage(32, 48, 2)] },
      { text: 'a red hat on a wooden chair', images: [] },
      { text: '<imagehere> at the beach', images: [testImage(32, 32, 3)], task: 'edit' },
    ];
  });
  afterAll(() => model.dispose());

  it('prepareImages gives the ViT and VAE inputs', () => {
    const gray = { width: 50, height: 40, data: new Uint8Array(50 * 40 * 3).fill(128) };
    const { vit, vae } = prepareImages(model, [gray, testImage(32, 32, 4)]);
    expect(vit.shape).toEqual([2, 3, 28, 28]);
    expect(vae.shape).toEqual([2, 3, 32, 32]);
    expect(maxAbsDiff(tf.slice(vae, 0, 1), tf.fill([1, 3, 32, 32], 128 / 127.5 - 1))).toBeLessThan(1e-6);
    // CLIP normalisation of 128/255 on the red channel.
    expect((tf.slice(vit, [0, 0, 0, 0], [1, 1, 1, 1]).dataSync()[0] as number)).toBeCloseTo((128 / 255 - 0.48145466) / 0.26862954, 5);
    const none = prepareImages(model, []);
    expect([none.vit.shape, none.vae.shape]).toEqual([[0, 3, 28, 28], [0, 3, 32, 32]]);
  });

  it("encodeLatents: 'mean' is the VAE mean, 'sample' is mean + std·ε from each image's Rng", () => {
    const { vae } = prepareImages(model, [testImage(32, 32, 5), testImage(32, 32, 6)]);
    const dist = model.vae.encode(vae);
    expect(maxAbsDiff(encodeLatents(model, vae, 'mean'), dist.mean)).toBe(0);
    const sample = encodeLatents(model, vae, 'sample', [new Rng(7), new Rng(8)]);
    const eps = tf.concat([new Rng(7).randn([1, 4, 16, 16]), new Rng(8).randn([1, 4, 16, 16])], 0);
    expect(maxAbsDiff(sample, tf.add(dist.mean, tf.mul(dist.std, eps)))).toBeLessThan(1e-6);
    expect(sample.shape).toEqual([2, 4, 16, 16]);
    expect(() => encodeLatents(model, vae, 'sample')).toThrow(/'sample' needs one Rng per image: got none for 2 image\(s\)/);
    expect(() => encodeLatents(model, vae, 'sample', [new Rng(1)])).toThrow(/got 1 for 2 image\(s\)/);
    dist.dispose();
  });

  it('encodeInstructions: y and mask shapes, mask sums = text + image tokens', () => {
    const { y, mask, warnings } = encodeInstructions(model, items);
    expect(y.shape).toEqual([3, 32, 64]);
    expect(mask.shape).toEqual([3, 32]);
    expect(warnings).toEqual([]);
    const sums = tf.sum(mask, 1).arraySync() as number[];
    const textTokens = (prompt: string) => model.tokenizer.encodeSegments(prompt.split('<imagehere>')).reduce((n, ids) => n + ids.length, 0) + 1; // + EOS
    expect(sums[0]).toBe(textTokens(items[0]!.text) + 2 * Q);
    expect(sums[1]).toBe(textTokens(items[1]!.text));
    // task 'edit' wraps the text in MIGE's editing prompt, so it is longer than the raw text.
    expect(sums[2]).toBeGreaterThan(textTokens(items[2]!.text) + Q);
    const mask0 = Array.from(mask.dataSync().slice(0, 32));
    expect(mask0).toEqual([...Array<number>(sums[0]!).fill(1), ...Array<number>(32 - sums[0]!).fill(0)]);
  });

  it("'mean' is deterministic; 'sample' is deterministic per rngs and differs with other rngs", () => {
    const mean1 = encodeInstructions(model, items, { latents: 'mean' }).y;
    const mean2 = encodeInstructions(model, items, { latents: 'mean' }).y;
    expect(maxAbsDiff(mean1, mean2)).toBe(0);
    const rngs = (seed: number) => [0, 1, 2].map((i) => new Rng(seed).fork(i));
    const s1 = encodeInstructions(model, items, { latents: 'sample', rngs: rngs(1) }).y;
    const s2 = encodeInstructions(model, items, { rngs: rngs(1) }).y; // rngs imply 'sample'
    const s3 = encodeInstructions(model, items, { latents: 'sample', rngs: rngs(2) }).y;
    expect(maxAbsDiff(s1, s2)).toBe(0);
    const row = (t: tf.Tensor, i: number) => tf.slice(t, i, 1);
    // Image items change with the latents; the text-only item does not.
    for (const i of [0, 2]) {
      expect(maxAbsDiff(row(s1, i), row(s3, i))).toBeGreaterThan(1e-4);
      expect(maxAbsDiff(row(s1, i), row(mean1, i))).toBeGreaterThan(1e-4);
    }
    expect(maxAbsDiff(row(s1, 1), row(s3, 1))).toBe(0);
    expect(maxAbsDiff(row(s1, 1), row(mean1, 1))).toBe(0);
  });

  it('rejects bad instructions with their index', () => {
    expect(() => encodeInstructions(model, [])).toThrow(/items: expected a non-empty array/);
    expect(() => encodeInstructions(model, [items[1]!, { text: 'x', images: 'no' } as unknown as Instruction])).toThrow(/items\[1\]: images must be an array/);
    expect(() => encodeInstructions(model, [{ text: 'two <imagehere> <imagehere>', images: [testImage(32, 32, 1)] }])).toThrow(MigeInputError);
    expect(() => encodeInstructions(model, items, { latents: 'sample' })).toThrow(/'sample' needs one Rng per image: got none for 3 image\(s\)/);
  });

  it('runs a whole tiny forward (encode, DiT, VAE decode) quickly', () => {
    const one: Instruction[] = [{ text: 'make <imagehere> blue', images: [testImage(32, 32, 9)] }];
    const run = () =>
      tf.tidy(() => {
        const { y, mask } = encodeInstructions(model, one);
        const z = new Rng(3).randn([1, 4, 16, 16]) as Latents;
        const { eps } = model.backbone.forward({ x: z, cond: z, t: tf.tensor1d([999], 'int32'), y, mask });
        return model.vae.decode(eps).dataSync();
      });
    run(); // warm-up (kernel set-up)
    const t0 = performance.now();
    run();
    const ms = performance.now() - t0;
    if (process.env.PARITY_REPORT === '1') console.log(`${backend} tiny forward ${ms.toFixed(1)} ms`);
    // The budget is for wasm (where a tiny forward takes well under 100 ms); the cpu backend is the slow reference.
    expect(ms).toBeLessThan(backend === 'wasm' ? 1000 : 15000);
  });
});
