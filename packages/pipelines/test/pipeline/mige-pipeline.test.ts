// MigePipeline: fromPretrained on a model folder, a preset and the default model; the call
// options (seed, numImages, latents, onStepEnd) and every outputType, against the functional
// flows they run on.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeImage, Rng, tensorToImages, tf, type Latents, type RgbImage } from '@mige/core';
import { useBackend } from '@mige/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { edit, initialNoise } from '../../src/flows/index.js';
import { MIGE_TINY, MigeModel, packageRoot, saveModel } from '../../src/model/index.js';
import { MigePipeline } from '../../src/pipeline/index.js';
import { picture } from '../flows/pictures.js';

const maxDiff = (a: tf.Tensor, b: tf.Tensor): number => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] as number);
const sameImage = (a: RgbImage, b: RgbImage): boolean => a.width === b.width && Buffer.from(a.data).equals(Buffer.from(b.data));

describe('MigePipeline', () => {
  let dir: string;
  let pipe: MigePipeline;
  beforeAll(async () => {
    await useBackend('wasm');
    // A mige-tiny with non-zero output layers (the reference init zeroes them), saved as a folder.
    const model = MigeModel.create(MIGE_TINY, { seed: 7 });
    const rng = new Rng('unzero');
    for (const [, p] of model.namedParameters()) {
      if (tf.tidy(() => tf.max(tf.abs(p)).dataSync()[0]) === 0) p.assign(tf.tidy(() => tf.mul(rng.randn(p.shape), 0.05)));
    }
    dir = mkdtempSync(join(tmpdir(), 'mige-pipeline-'));
    saveModel(model, join(dir, 'tiny'));
    model.dispose();
    pipe = await MigePipeline.fromPretrained('tiny', { cwd: dir });
  });
  afterAll(async () => {
    await pipe?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('fromPretrained(folder) runs the functional flows: same images for the same seed', async () => {
    expect(pipe.engine).toBe('tfjs');
    const args = { instruction: 'make <imagehere> red', source: picture(1), steps: 3, seed: 4, numImages: 2 };
    const out = await pipe.edit(args);
    const ref = await edit(pipe.model, { instruction: args.instruction, source: args.source }, { steps: 3, seed: 4, numImages: 2 });
    ref.tensor.dispose();
    expect(out.images).toHaveLength(2);
    expect(out.images.map((img, i) => sameImage(img, ref.images[i]?.image as RgbImage))).toEqual([true, true]);
    expect(out.params.map((p) => p.seed)).toEqual([4, 5]);
    expect(sameImage(out.images[0] as RgbImage, out.images[1] as RgbImage)).toBe(false);
  });

  it('gives every outputType: latents decode to the tensor, the tensor to the RGB images, the PNGs to the same pixels', async () => {
    const call = { instruction: 'a photo of <imagehere>', images: [picture(2)], steps: 3, seed: 9 };
    const latents = await pipe.generate({ ...call, outputType: 'latents' });
    const tensor = await pipe.generate({ ...call, outputType: 'tensor' });
    const rgb = await pipe.generate({ ...call, outputType: 'rgb' });
    const png = await pipe.generate({ ...call, outputType: 'png' });
    const s = MIGE_TINY.imageSize;
    expect(latents.images.shape).toEqual([1, 4, 16, 16]);
    expect(tensor.images.shape).toEqual([1, 3, s, s]);
    const decoded = tf.tidy(() => pipe.model.vae.decode(tf.div(latents.images, pipe.model.vae.scalingFactor) as Latents));
    expect(maxDiff(decoded, tensor.images)).toBe(0);
    expect(sameImage(tensorToImages(tensor.images)[0] as RgbImage, rgb.images[0] as RgbImage)).toBe(true);
    expect(png.images[0]?.subarray(1, 4).toString()).toBe('PNG');
    expect(sameImage(await decodeImage(png.images[0] as Buffer), rgb.images[0] as RgbImage)).toBe(true);
    tf.dispose([latents.images, tensor.images, decoded]);
  });

  it('takes initial latents: the seed\'s own noise gives the seed\'s image, other noise another image', async () => {
    const call = { instruction: 'a photo of <imagehere>', images: [picture(3)], steps: 3, outputType: 'latents' as const };
    const bySeed = await pipe.generate({ ...call, seed: 12 });
    const noise = initialNoise(pipe.model, 12);
    const given = await pipe.generate({ ...call, seed: 0, latents: noise });
    expect(maxDiff(bySeed.images, given.images)).toBe(0);
    expect(given.params[0]?.initialLatents).toBe('given');
    const other = tf.tidy(() => tf.mul(noise, -1) as Latents);
    const changed = await pipe.generate({ ...call, seed: 12, latents: other });
    expect(maxDiff(bySeed.images, changed.images)).toBeGreaterThan(0.01);
    await expect(pipe.generate({ ...call, latents: tf.zeros([2, 4, 16, 16]) as Latents })).rejects.toThrow(/latents must be float32 \[1, 4, 16, 16\] \(one row per image of the call\), got float32 \[2, 4, 16, 16\]/);
    tf.dispose([bySeed.images, given.images, changed.images, noise, other]);
  });

  it('onStepEnd sees every step; replacing the latents changes the result, deterministically', async () => {
    const call = { instruction: 'make <imagehere> blue', source: picture(4), steps: 4, seed: 3, outputType: 'latents' } as const;
    const seen: { step: number; t: number; shape: number[] }[] = [];
    const plain = await pipe.edit({ ...call, onStepEnd: ({ step, t, latents }) => void seen.push({ step, t, shape: latents.shape }) });
    expect(seen.map((s) => s.step)).toEqual([1, 2, 3, 4]);
    expect(seen.every((s, i) => i === 0 || s.t < (seen[i - 1] as { t: number }).t)).toBe(true);
    expect(seen[0]?.shape).toEqual([1, 4, 16, 16]);
    const without = await pipe.edit(call);
    expect(maxDiff(plain.images, without.images)).toBe(0);
    // Damp the sample after step 2: the run goes on from the damped latents.
    const damp = ({ step, latents }: { step: number; latents: Latents }) => (step === 2 ? (tf.mul(latents, 0.5) as Latents) : undefined);
    const a = await pipe.edit({ ...call, onStepEnd: damp });
    const b = await pipe.edit({ ...call, onStepEnd: damp });
    expect(maxDiff(a.images, plain.images)).toBeGreaterThan(0.01);
    expect(maxDiff(a.images, b.images)).toBe(0);
    const before = tf.memory().numTensors;
    await expect(pipe.edit({ ...call, onStepEnd: () => tf.zeros([1, 4, 8, 8]) as Latents })).rejects.toThrow(/step 1: the step callback returned float32 \[1, 4, 8, 8\]; replacement latents must be float32 \[1, 4, 16, 16\]/);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([plain.images, without.images, a.images, b.images]);
  });

  it('refuses a bad outputType or a per-call engine before any work', async () => {
    await expect(pipe.generate({ instruction: 'x <imagehere>', images: [picture(1)], outputType: 'jpeg' as 'png' })).rejects.toThrow(/outputType must be one of 'png', 'rgb', 'tensor', 'latents', got "jpeg"/);
    await expect(pipe.generate({ instruction: 'x <imagehere>', images: [picture(1)], ...({ engine: 'onnx' } as object) })).rejects.toThrow(/engine is set when the pipeline is made/);
  });

  it('fromPretrained(preset) gives random weights of that size; unknown names list what is accepted', async () => {
    const tiny = await MigePipeline.fromPretrained('mige-tiny', { seed: 1 });
    try {
      const out = await tiny.generate({ instruction: '<imagehere>', images: [picture(1)], steps: 2 });
      expect(out.params[0]?.model).toBe('mige-tiny');
      expect(out.images[0]?.width).toBe(MIGE_TINY.imageSize);
    } finally {
      await tiny.dispose();
    }
    await expect(MigePipeline.fromPretrained('mige-wrld', { cwd: dir })).rejects.toThrow(/"mige-wrld" is not a model folder .* the default model's name \(mige-world\) or a preset \(mige-xl, mige-tiny\)/);
    await expect(MigePipeline.fromPretrained('mige-tiny', { dtype: 'fp16' })).rejects.toThrow(/apply to engine 'onnx'/);
  });

  it("fromPretrained(preset, { engine: 'onnx' }) exports to a temporary folder and matches TF.js", async () => {
    const onnx = await MigePipeline.fromPretrained('tiny', { cwd: dir, engine: 'onnx', device: 'cpu' });
    try {
      expect(onnx.engine).toBe('onnx');
      const call = { instruction: 'make <imagehere> red', source: picture(5), steps: 3, seed: 1, outputType: 'tensor' } as const;
      const a = await onnx.edit(call);
      const b = await pipe.edit(call);
      expect(a.params[0]?.engine).toBe('onnx');
      expect(maxDiff(a.images, b.images)).toBeLessThan(1e-4);
      tf.dispose([a.images, b.images]);
    } finally {
      await onnx.dispose();
    }
  });
});

describe('MigePipeline with the default model (@mige/model-world)', () => {
  it("fromPretrained() and fromPretrained('mige-world') load it, with its own sampling defaults", async () => {
    await useBackend('wasm');
    const pipe = await MigePipeline.fromPretrained();
    try {
      expect(pipe.model.config.name).toBe('mige-world');
      expect(pipe.defaults('edit').steps).toBe(20);
      const source = await decodeImage(join(packageRoot(), 'demo', 'edit-source.png'));
      const { images, params } = await pipe.edit({ instruction: 'remove the purple triangle', source, outputType: 'png' });
      expect(params[0]).toMatchObject({ model: 'mige-world', steps: 20 });
      const img = await decodeImage(images[0] as Buffer);
      expect([img.width, img.height]).toEqual([64, 64]);
    } finally {
      await pipe.dispose();
    }
    const named = await MigePipeline.fromPretrained('mige-world');
    expect(named.model.config.name).toBe('mige-world');
    await named.dispose();
  });
});
