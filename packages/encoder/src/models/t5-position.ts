import { tf } from '@mige/core';

const f32 = Math.fround;

/**
 * HF T5Attention._relative_position_bucket (bidirectional) for rel = key − query. The log
 * branch is rounded to float32 at every step, as torch computes it, so the buckets match at
 * the boundaries (rel = 16, 32, 64, ...).
 */
export function relativePositionBucket(rel: number, numBuckets: number, maxDistance: number): number {
  const n = numBuckets / 2;
  const base = rel > 0 ? n : 0;
  const a = Math.abs(rel);
  const maxExact = n / 2;
  if (a < maxExact) return base + a;
  const logRatio = f32(Math.log(f32(a / maxExact)));
  const scaled = f32(f32(logRatio / f32(Math.log(maxDistance / maxExact))) * (n - maxExact));
  return base + Math.min(n - 1, maxExact + Math.trunc(scaled));
}

/** The [L, L] bucket table, bucket[i, j] = bucket(j − i), int32. */
export function relativePositionBuckets(length: number, numBuckets: number, maxDistance: number): tf.Tensor2D {
  const out = new Int32Array(length * length);
  for (let i = 0; i < length; i++) {
    for (let j = 0; j < length; j++) out[i * length + j] = relativePositionBucket(j - i, numBuckets, maxDistance);
  }
  return tf.tensor2d(out, [length, length], 'int32');
}
