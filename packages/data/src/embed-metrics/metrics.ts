import { MigeInputError, type RgbImage } from '@mige/core';
import type { ImageEmbedder } from './image-encoder.js';
import { cosine, directionSimilarity } from './math.js';
import type { TextEmbedder } from './text-encoder.js';

/**
 * The MIGE paper's embedding metrics, one score per item. Encoders are interfaces so the same
 * code runs with ONNX models or any other embedder (and with fakes in tests).
 */

function checkPairs(a: readonly unknown[], b: readonly unknown[], what: string): void {
  if (a.length !== b.length) throw new MigeInputError(`${what}: ${a.length} vs ${b.length} items`, what);
}

async function imagePairScores(
  encoder: ImageEmbedder,
  outputs: readonly RgbImage[],
  targets: readonly RgbImage[],
  what: string,
): Promise<number[]> {
  checkPairs(outputs, targets, what);
  const [a, b] = await Promise.all([encoder.embed(outputs), encoder.embed(targets)]);
  return a.map((v, i) => cosine(v, b[i]!));
}

/** DINO: cosine(DINO(output), DINO(target)). */
export function dinoScores(dino: ImageEmbedder, outputs: readonly RgbImage[], targets: readonly RgbImage[]): Promise<number[]> {
  return imagePairScores(dino, outputs, targets, 'dinoScores');
}

/** CLIP-I: cosine(CLIP image(output), CLIP image(target)). */
export function clipIScores(clip: ImageEmbedder, outputs: readonly RgbImage[], targets: readonly RgbImage[]): Promise<number[]> {
  return imagePairScores(clip, outputs, targets, 'clipIScores');
}

/** CLIP-T: cosine(CLIP image(output), CLIP text(caption)). */
export async function clipTScores(
  image: ImageEmbedder,
  text: TextEmbedder,
  outputs: readonly RgbImage[],
  captions: readonly string[],
): Promise<number[]> {
  checkPairs(outputs, captions, 'clipTScores');
  const [a, b] = await Promise.all([image.embed(outputs), text.embed(captions)]);
  return a.map((v, i) => cosine(v, b[i]!));
}

export interface DirectionItem {
  source: RgbImage;
  output: RgbImage;
  sourceCaption: string;
  targetCaption: string;
}

/** CLIPdir: cosine(image(output) − image(source), text(target caption) − text(source caption)). */
export async function clipDirScores(
  image: ImageEmbedder,
  text: TextEmbedder,
  items: readonly DirectionItem[],
): Promise<number[]> {
  const [out, src, tgtT, srcT] = await Promise.all([
    image.embed(items.map((it) => it.output)),
    image.embed(items.map((it) => it.source)),
    text.embed(items.map((it) => it.targetCaption)),
    text.embed(items.map((it) => it.sourceCaption)),
  ]);
  return items.map((_, i) => directionSimilarity(out[i]!, src[i]!, tgtT[i]!, srcT[i]!));
}
