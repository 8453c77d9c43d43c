import { MigeInputError } from '@mige/core';

/**
 * Vector math behind the MIGE embedding metrics. Kept pure (Float32Array in, number out) so it
 * is testable against hand-computed values and independent of any runtime.
 */

function checkSameLength(a: ArrayLike<number>, b: ArrayLike<number>, where: string): void {
  if (a.length !== b.length) throw new MigeInputError(`vector lengths differ (${a.length} vs ${b.length})`, where);
  if (a.length === 0) throw new MigeInputError('vectors are empty', where);
}

export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  checkSameLength(a, b, 'dot');
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

export function l2Norm(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * a[i]!;
  return Math.sqrt(s);
}

/** A unit-length copy; a zero vector stays zero (its cosine with anything is then 0, not NaN). */
export function l2Normalize(a: ArrayLike<number>): Float32Array {
  const n = l2Norm(a);
  const out = new Float32Array(a.length);
  if (n === 0) return out;
  for (let i = 0; i < a.length; i++) out[i] = a[i]! / n;
  return out;
}

/** Cosine similarity in float64; 0 when either vector is zero (as torch's eps-guarded form gives). */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  checkSameLength(a, b, 'cosine');
  const na = l2Norm(a);
  const nb = l2Norm(b);
  if (na === 0 || nb === 0) return 0;
  return dot(a, b) / (na * nb);
}

export function subtract(a: ArrayLike<number>, b: ArrayLike<number>): Float64Array {
  checkSameLength(a, b, 'subtract');
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! - b[i]!;
  return out;
}

/**
 * CLIP directional similarity: cosine(image(output) − image(source), text(target) − text(source)).
 * Embeddings are expected L2-normalised already (as the encoders return them).
 */
export function directionSimilarity(
  outputImage: ArrayLike<number>,
  sourceImage: ArrayLike<number>,
  targetText: ArrayLike<number>,
  sourceText: ArrayLike<number>,
): number {
  return cosine(subtract(outputImage, sourceImage), subtract(targetText, sourceText));
}

/** Mean of a list of scores; NaN for an empty list so a missing metric is never mistaken for 0. */
export function mean(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  let s = 0;
  for (const v of values) s += v;
  return s / values.length;
}
