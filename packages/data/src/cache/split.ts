import { MigeInputError } from '@mige/core';
import type { FeatureTensor } from './types.js';

/** Splits a batched [n, ...] tensor into n per-image tensors (copies, so shards own their data). */
export function splitBatch(t: FeatureTensor, n: number, where: string): FeatureTensor[] {
  const count = t.shape.reduce((a, b) => a * b, 1);
  if (t.shape[0] !== n || count !== t.data.length) {
    throw new MigeInputError(
      `encoder returned shape [${t.shape.join(', ')}] with ${t.data.length} values for a batch of ${n}`,
      where,
    );
  }
  const per = n === 0 ? 0 : count / n;
  const shape = t.shape.slice(1);
  return Array.from({ length: n }, (_, i) => ({ data: t.data.slice(i * per, (i + 1) * per), shape }));
}
