import { checkShapes, MigeInputError, Rng, tf, type Latents, type TokenSequence } from '@mige/core';

/**
 * MIGE's training-time condition dropout, which teaches the backbone the unconditional branches
 * that classifier-free guidance needs (MIGE.forward under `self.training`): per batch item a
 * uniform u decides
 *   u < instruction                        → drop the instruction (y ← the learned null y)
 *   instruction ≤ u < + source             → drop the source (cond ← zeros)
 *   instruction + source ≤ u < + both      → drop both
 * with 0.05 each in the reference.
 */
export interface CfgDropoutProbs {
  instruction: number;
  source: number;
  both: number;
}

export const MIGE_CFG_DROPOUT: Readonly<CfgDropoutProbs> = { instruction: 0.05, source: 0.05, both: 0.05 };

export interface CfgDropoutDecisions {
  /** Per item: replace y with the null condition. */
  dropY: boolean[];
  /** Per item: replace the source latent with zeros. */
  dropSource: boolean[];
}

/** Checks each probability is in [0, 1] and they sum to at most 1. */
export function validateCfgDropoutProbs(probs: Partial<CfgDropoutProbs>): CfgDropoutProbs {
  const p = { ...MIGE_CFG_DROPOUT, ...probs };
  for (const key of ['instruction', 'source', 'both'] as const) {
    const v = p[key];
    if (!(typeof v === 'number' && v >= 0 && v <= 1)) {
      throw new MigeInputError(`${key} must be a probability in [0, 1], got ${String(v)}`, 'cfgDropout');
    }
  }
  const sum = p.instruction + p.source + p.both;
  if (sum > 1 + 1e-12) throw new MigeInputError(`instruction + source + both must be ≤ 1, got ${sum}`, 'cfgDropout');
  return p;
}

/**
 * Cumulative thresholds, rounded to 12 significant digits so that 0.05 + 0.05 + 0.05 is the
 * reference's literal 0.15 rather than 0.15000000000000002.
 */
function thresholds(p: CfgDropoutProbs): [number, number, number] {
  const round = (x: number): number => Number(x.toPrecision(12));
  const a = p.instruction;
  const b = round(a + p.source);
  return [a, b, round(b + p.both)];
}

/**
 * The per-item decisions from uniforms `u` in [0, 1) (one per item), or drawn from `rng` (one
 * `uniform()` per item, in batch order).
 */
export function cfgDropoutDecisions(
  u: readonly number[] | Rng,
  batch: number,
  probs: Partial<CfgDropoutProbs> = MIGE_CFG_DROPOUT,
): CfgDropoutDecisions {
  if (!Number.isInteger(batch) || batch < 0) throw new MigeInputError(`batch must be a non-negative integer, got ${batch}`, 'cfgDropout');
  const [tY, tSource, tBoth] = thresholds(validateCfgDropoutProbs(probs));
  const draws = u instanceof Rng ? Array.from({ length: batch }, () => u.uniform()) : [...u];
  if (draws.length !== batch) throw new MigeInputError(`got ${draws.length} uniforms for a batch of ${batch}`, 'cfgDropout');
  const dropY: boolean[] = [];
  const dropSource: boolean[] = [];
  draws.forEach((v, i) => {
    if (!(v >= 0 && v < 1)) throw new MigeInputError(`u[${i}] = ${v} is not in [0, 1)`, 'cfgDropout');
    dropY.push(v < tY || (v >= tSource && v < tBoth));
    dropSource.push(v >= tY && v < tBoth);
  });
  return { dropY, dropSource };
}

export interface CfgDropoutInput {
  /** Condition tokens [B, L, C]. */
  y: TokenSequence;
  /** The source latent [B, 4, h, w] (scaled), or zeros. */
  cond: Latents;
}

/**
 * Applies the decisions: dropped items get `nullY` [L, C] (the backbone's learned null
 * condition; gradients reach it, as they reach y_embedding in the reference) and a zero source.
 * The instruction mask is left as it is: the reference keeps it when it swaps in the null y.
 */
export function applyCfgDropout(input: CfgDropoutInput, decisions: CfgDropoutDecisions, nullY: tf.Tensor2D): CfgDropoutInput {
  const { y, cond } = input;
  const dims = checkShapes('applyCfgDropout', {
    y: [y, ['B', 'L', 'C']],
    cond: [cond, ['B', '*', '*', '*']],
    nullY: [nullY, ['L', 'C']],
  });
  const batch = dims.B as number;
  for (const key of ['dropY', 'dropSource'] as const) {
    if (decisions[key].length !== batch) {
      throw new MigeInputError(`decisions.${key} has ${decisions[key].length} entries for a batch of ${batch}`, 'applyCfgDropout');
    }
  }
  return tf.tidy(() => {
    const yMask = tf.tensor3d(decisions.dropY, [batch, 1, 1], 'bool');
    const sourceMask = tf.tensor4d(decisions.dropSource, [batch, 1, 1, 1], 'bool');
    return {
      y: tf.where(tf.broadcastTo(yMask, y.shape), tf.broadcastTo(nullY, y.shape), y) as TokenSequence,
      // where, not ×0: a replaced source is exactly zero whatever it held.
      cond: tf.where(tf.broadcastTo(sourceMask, cond.shape), tf.zerosLike(cond), cond) as Latents,
    };
  });
}
