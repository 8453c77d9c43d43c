import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRgbImage, MigeInputError, normalizeImage, resize, type RgbImage, type RgbTriple } from '@mige/core';
import { afterAll, describe, expect, it } from 'vitest';
import { clipDirScores, clipTScores, cosine, OnnxImageEncoder, OnnxTextEncoder } from '../../src/embed-metrics/index.js';
import { matmul, writeLinearImageModel, writeLinearTextModel } from './tiny-onnx.js';

const SIZE = 8;
const DIM = 4;
const IN = 3 * SIZE * SIZE;
const MEAN: RgbTriple = [0.48145466, 0.4578275, 0.40821073];
const STD: RgbTriple = [0.26862954, 0.26130258, 0.27577711];

const dir = mkdtempSync(join(tmpdir(), 'mige-onnx-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const weight = new Float32Array(IN * DIM).map((_, i) => Math.sin(i * 0.37) * 0.1);
const imageModel = join(dir, 'image.onnx');
writeLinearImageModel(imageModel, SIZE, weight, DIM);

function image(w: number, h: number, seed: number): RgbImage {
  const data = new Uint8Array(w * h * 3).map((_, i) => (i * 31 + seed * 17) % 256);
  return createRgbImage(w, h, data);
}

/** The encoder's math in JS: resize, normalise, x·W, L2-normalise. */
function expected(img: RgbImage): Float64Array {
  const sized = img.width === SIZE && img.height === SIZE ? img : resize(img, SIZE, SIZE, 'bicubic');
  const y = matmul(normalizeImage(sized, { mean: MEAN, std: STD }).data, 1, IN, weight, DIM);
  const n = Math.hypot(...y);
  return y.map((v) => v / n);
}

describe('OnnxImageEncoder', () => {
  it('embeds like the same math done in JS (resize + normalise + linear + L2)', async () => {
    const enc = await OnnxImageEncoder.open(imageModel, { size: SIZE, mean: MEAN, std: STD });
    const imgs = [image(SIZE, SIZE, 1), image(13, 10, 2), image(5, 7, 3)];
    const out = await enc.embed(imgs);
    expect(out).toHaveLength(3);
    out.forEach((row, i) => {
      const want = expected(imgs[i]!);
      expect(row).toHaveLength(DIM);
      row.forEach((v, j) => expect(v).toBeCloseTo(want[j]!, 5));
      expect(Math.hypot(...row)).toBeCloseTo(1, 6);
    });
    // Same image → cosine 1 (the CLIP-I / DINO score of a perfect output).
    expect(cosine(out[0]!, (await enc.embed([imgs[0]!]))[0]!)).toBeCloseTo(1, 6);
    await enc.close();
  });

  it('takes the CLS token (row 0) of a [N, T, D] output, as the DINO metric does', async () => {
    const tokenModel = join(dir, 'tokens.onnx');
    writeLinearImageModel(tokenModel, SIZE, weight, DIM, 2);
    const enc = await OnnxImageEncoder.open(tokenModel, { size: SIZE, mean: MEAN, std: STD });
    const img = image(SIZE, SIZE, 5);
    const [row] = await enc.embed([img]);
    const sized = normalizeImage(img, { mean: MEAN, std: STD }).data;
    const cls = matmul(sized, 1, IN, weight, DIM).slice(0, 2);
    const n = Math.hypot(...cls);
    expect(row).toHaveLength(2);
    row!.forEach((v, j) => expect(v).toBeCloseTo(cls[j]! / n, 5));
    await enc.close();
  });

  it('names the file for a missing or corrupt model', async () => {
    const missing = join(dir, 'nope.onnx');
    await expect(OnnxImageEncoder.open(missing, { size: SIZE, mean: MEAN, std: STD })).rejects.toThrow(MigeInputError);
    await expect(OnnxImageEncoder.open(missing, { size: SIZE, mean: MEAN, std: STD })).rejects.toThrow(missing);
    const corrupt = join(dir, 'corrupt.onnx');
    writeFileSync(corrupt, Buffer.from('definitely not protobuf'));
    await expect(OnnxImageEncoder.open(corrupt, { size: SIZE, mean: MEAN, std: STD })).rejects.toThrow(corrupt);
  });

  it('names the file when the preprocessing size does not fit the model input', async () => {
    const enc = await OnnxImageEncoder.open(imageModel, { size: 6, mean: MEAN, std: STD });
    const err: unknown = await enc.embed([image(6, 6, 1)]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MigeInputError);
    expect((err as MigeInputError).message).toContain(imageModel);
    await enc.close();
  });

  it('rejects an unknown input name', async () => {
    await expect(OnnxImageEncoder.open(imageModel, { size: SIZE, mean: MEAN, std: STD, inputName: 'pixels' })).rejects.toThrow(
      /no input named 'pixels'/,
    );
  });
});

describe('OnnxTextEncoder and CLIP-T / CLIPdir', () => {
  const LEN = 3;
  const textWeight = new Float32Array(LEN * DIM).map((_, i) => ((i * 7) % 5) - 2);
  const textModel = join(dir, 'text.onnx');
  writeLinearTextModel(textModel, LEN, textWeight, DIM);
  // A toy tokenizer: character codes of the first LEN characters, zero padded.
  const tokenize = (texts: readonly string[]) => {
    const ids = new BigInt64Array(texts.length * LEN);
    texts.forEach((t, i) => {
      for (let j = 0; j < Math.min(LEN, t.length); j++) ids[i * LEN + j] = BigInt(t.charCodeAt(j) % 11);
    });
    return { ids, shape: [texts.length, LEN] as const };
  };
  const textExpected = (t: string): Float64Array => {
    const { ids } = tokenize([t]);
    const y = matmul(Float32Array.from(ids, Number), 1, LEN, textWeight, DIM);
    const n = Math.hypot(...y);
    return y.map((v) => v / n);
  };

  it('embeds int64 token ids like the JS math', async () => {
    const enc = await OnnxTextEncoder.open(textModel, tokenize);
    const [a, b] = await enc.embed(['a red cube', 'xyz']);
    textExpected('a red cube').forEach((v, j) => expect(a![j]).toBeCloseTo(v, 6));
    textExpected('xyz').forEach((v, j) => expect(b![j]).toBeCloseTo(v, 6));
    await enc.close();
  });

  it('computes CLIP-T and CLIPdir from the ORT embeddings', async () => {
    const img = await OnnxImageEncoder.open(imageModel, { size: SIZE, mean: MEAN, std: STD });
    const txt = await OnnxTextEncoder.open(textModel, tokenize);
    const src = image(SIZE, SIZE, 4);
    const out = image(SIZE, SIZE, 9);
    const [clipT] = await clipTScores(img, txt, [out], ['abc']);
    expect(clipT).toBeCloseTo(cosine(expected(out), textExpected('abc')), 5);
    const [dirScore] = await clipDirScores(img, txt, [{ source: src, output: out, sourceCaption: 'abc', targetCaption: 'bcd' }]);
    const imgDiff = expected(out).map((v, j) => v - expected(src)[j]!);
    const txtDiff = textExpected('bcd').map((v, j) => v - textExpected('abc')[j]!);
    expect(dirScore).toBeCloseTo(cosine(imgDiff, txtDiff), 4);
    await img.close();
    await txt.close();
  });
});
