import { decodeImage, MigeAbortError, MigeInputError, Rng, tf, type RgbImage } from '@mige/core';
import { useBackend } from '@mige/core/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { compose, edit, generate } from '../../src/flows/index.js';
import { MIGE_TINY, MigeModel } from '../../src/model/index.js';
import { picture } from './pictures.js';


function sameImage(a: RgbImage, b: RgbImage): boolean {
  return a.width === b.width && a.height === b.height && Buffer.from(a.data).equals(Buffer.from(b.data));
}

describe('inference flows on mige-tiny (random weights)', () => {
  let model: MigeModel;
  beforeAll(async () => {
    await useBackend('wasm');
    model = MigeModel.create(MIGE_TINY, { seed: 7 });
    // The reference initialisation zeroes the output layers (ε ≡ 0); give them weights so the
    // condition shows in the images.
    const rng = new Rng('unzero');
    for (const [, p] of model.namedParameters()) {
      if (tf.tidy(() => tf.max(tf.abs(p)).dataSync()[0]) === 0) p.assign(tf.tidy(() => tf.mul(rng.randn(p.shape), 0.05)));
    }
  });
  afterAll(() => model.dispose());

  it('generate: instruction + subject images → PNG images with their parameters', async () => {
    const res = await generate(model, { instruction: 'a photo of <imagehere> next to <imagehere>', images: [picture(1), picture(2)] }, { steps: 3, seed: 5, numImages: 2 });
    expect(res.images).toHaveLength(2);
    const size = MIGE_TINY.imageSize;
    expect(res.tensor.shape).toEqual([2, 3, size, size]);
    const [a, b] = res.images as [NonNullable<(typeof res.images)[0]>, NonNullable<(typeof res.images)[0]>];
    expect([a.image.width, a.image.height]).toEqual([size, size]);
    expect(sameImage(await decodeImage(a.png), a.image)).toBe(true);
    expect(a.params).toMatchObject({ flow: 'generate', seed: 5, steps: 3, guidance: 'subject', scales: { y: 7 }, size, referenceLatents: 'sample', model: 'mige-tiny' });
    expect(b.params.seed).toBe(6);
    expect(a.params.prompt).toMatch(/^follow the text instruction to generate an image.*a photo of <imagehere> next to <imagehere>$/);
    expect(sameImage(a.image, b.image)).toBe(false);
    res.tensor.dispose();
  });

  it('gives the same image for the same seed whatever else is in the batch', async () => {
    const reqB = { instruction: 'a photo of <imagehere>', images: [picture(3)], seed: 11 };
    const together = await generate(model, [{ instruction: '<imagehere> and <imagehere> on grass', images: [picture(4), picture(5)], seed: 2 }, reqB], { steps: 3 });
    const alone = await generate(model, reqB, { steps: 3 });
    expect(sameImage(together.images[1]?.image as RgbImage, alone.images[0]?.image as RgbImage)).toBe(true);
    expect(tf.tidy(() => tf.max(tf.abs(tf.sub(tf.slice(together.tensor, 1, 1), alone.tensor))).dataSync()[0])).toBeLessThan(1e-5);
    together.tensor.dispose();
    alone.tensor.dispose();
  });

  it('edit: 3 guidance branches as one batch, the encoder run once, the source in the instruction', async () => {
    const forward = vi.spyOn(model.backbone, 'forward');
    const encode = vi.spyOn(model.encoder, 'encode');
    const res = await edit(model, [{ instruction: 'make the square blue', source: picture(6) }, { instruction: 'remove the square from <imagehere>', source: picture(7) }], { steps: 4, scales: { y: 4, s: 1.5 } });
    expect(encode).toHaveBeenCalledTimes(1);
    expect(forward).toHaveBeenCalledTimes(4);
    const rows = forward.mock.calls.map((c) => c[0].x.shape[0]);
    expect(rows).toEqual([6, 6, 6, 6]);
    expect(res.images.map((i) => i.params.instruction)).toEqual(['make the square blue in<imagehere>', 'remove the square from <imagehere>']);
    expect(res.images[0]?.params).toMatchObject({ flow: 'edit', guidance: 'edit', scales: { y: 4, s: 1.5 } });
    expect(res.images[0]?.params.prompt).toBe('Follow the instruction to edit the image:\n make the square blue in<imagehere>');
    forward.mockRestore();
    encode.mockRestore();
    res.tensor.dispose();
  });

  it('edit branches: null y where the instruction is dropped, zeros where the source is', async () => {
    const forward = vi.spyOn(model.backbone, 'forward');
    let checked = false;
    const res = await edit(model, { instruction: 'recolor <imagehere>', source: picture(8) }, {
      steps: 1,
      onStep: () => {
        const input = forward.mock.calls[0]?.[0];
        if (!input) return;
        const nullY = model.backbone.nullCondition();
        const rowsY = tf.unstack(input.y);
        const rowsCond = tf.unstack(input.cond);
        const isNull = rowsY.map((r) => tf.tidy(() => tf.max(tf.abs(tf.sub(r, nullY))).dataSync()[0] === 0));
        const isZero = rowsCond.map((r) => tf.tidy(() => tf.max(tf.abs(r)).dataSync()[0] === 0));
        expect(isNull).toEqual([true, true, false]);
        expect(isZero).toEqual([true, false, false]);
        // As the reference, the null-y rows keep the instruction's mask.
        const m = input.mask.arraySync() as number[][];
        expect(m[0]).toEqual(m[2]);
        tf.dispose([nullY, ...rowsY, ...rowsCond]);
        checked = true;
      },
    });
    expect(checked).toBe(true);
    forward.mockRestore();
    res.tensor.dispose();
  });

  it('compose: the source as conditional input, subjects (and optionally the source) in the instruction', async () => {
    const a = await compose(model, { instruction: 'add <imagehere> to the left', source: picture(9), subjects: [picture(10)] }, { steps: 2, seed: 3 });
    const b = await compose(model, { instruction: 'in <imagehere>, replace the square with <imagehere>', source: picture(9), subjects: [picture(10)], sourceSlot: 0 }, { steps: 2, seed: 3 });
    expect(a.images[0]?.params.prompt).toBe('subject-driven editing add <imagehere> to the left');
    expect(a.images[0]?.params.guidance).toBe('edit');
    expect(sameImage(a.images[0]?.image as RgbImage, b.images[0]?.image as RgbImage)).toBe(false);
    a.tensor.dispose();
    b.tensor.dispose();
  });

  it('runs the stochastic samplers from per-item seeds (DDPM, DDIM with eta)', async () => {
    for (const sampler of [{ type: 'ddpm' as const }, { type: 'ddim' as const, eta: 1 }]) {
      const req = { instruction: 'recolor <imagehere>', source: picture(14), seed: 21 };
      const a = await edit(model, [req, { ...req, seed: 22 }], { steps: 3, sampler });
      const b = await edit(model, req, { steps: 3, sampler });
      expect(sameImage(a.images[0]?.image as RgbImage, b.images[0]?.image as RgbImage)).toBe(true);
      expect(sameImage(a.images[0]?.image as RgbImage, a.images[1]?.image as RgbImage)).toBe(false);
      tf.dispose([a.tensor, b.tensor]);
    }
  });

  it('skips the ViT for instructions without images', async () => {
    const vit = vi.spyOn(model.encoder.module.vision, 'forward');
    const res = await generate(model, { instruction: 'a red circle on a blue background', images: [] }, { steps: 1 });
    expect(vit).not.toHaveBeenCalled();
    vit.mockRestore();
    res.tensor.dispose();
  });

  it('reports progress with previews and stops within one step when aborted, leaking nothing', async () => {
    const before = tf.memory().numTensors;
    const steps: number[] = [];
    const previews: number[] = [];
    const res = await generate(model, { instruction: 'a <imagehere>', images: [picture(12)] }, {
      steps: 4, previewEvery: 2,
      onStep: (s, total, preview) => {
        steps.push(s);
        expect(total).toBe(4);
        if (preview) previews.push(preview[0]?.width ?? -1);
      },
    });
    expect(steps).toEqual([1, 2, 3, 4]);
    expect(previews).toEqual([MIGE_TINY.imageSize, MIGE_TINY.imageSize]);
    res.tensor.dispose();
    expect(tf.memory().numTensors).toBe(before);

    const controller = new AbortController();
    const forward = vi.spyOn(model.backbone, 'forward');
    const run = edit(model, { instruction: 'edit <imagehere>', source: picture(13) }, { steps: 10, signal: controller.signal, onStep: (s) => s === 2 && controller.abort() });
    await expect(run).rejects.toBeInstanceOf(MigeAbortError);
    expect(forward).toHaveBeenCalledTimes(2);
    forward.mockRestore();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects bad requests with errors that say what is wrong', async () => {
    await expect(generate(model, { instruction: 'two <imagehere> <imagehere>', images: [picture(1)] })).rejects.toThrow(/generate request 0: the instruction has 2 <imagehere> but 1 image\(s\) were given/);
    await expect(generate(model, { instruction: '  ', images: [] })).rejects.toThrow(/instruction must be a non-empty string/);
    await expect(edit(model, { instruction: 'swap <imagehere> and <imagehere>', source: picture(1) })).rejects.toThrow(/has 2 <imagehere> but an edit instruction refers to its source image once/);
    await expect(compose(model, { instruction: 'add it', source: picture(1), subjects: [picture(2)] })).rejects.toThrow(/has 0 <imagehere> but 1 subject/);
    await expect(edit(model, { instruction: 'x <imagehere>', source: { width: 2, height: 2, data: new Uint8Array(3) } })).rejects.toThrow(MigeInputError);
    await expect(generate(model, { instruction: 'x', images: [] }, { size: 512 })).rejects.toThrow(/size 512 is not supported: model mige-tiny generates/);
    await expect(generate(model, { instruction: 'x', images: [] }, { steps: 0 })).rejects.toThrow(/steps must be a positive integer/);
    await expect(generate(model, { instruction: 'x', images: [] }, { seed: -1 })).rejects.toThrow(/seed must be a non-negative integer/);
  });
});
