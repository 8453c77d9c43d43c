// MIGE's training-time condition dropout (MIGE.forward, `if self.training:`): 5 % drop y, 5 % drop
// the source, 5 % drop both, from one uniform per item.
import { MigeInputError, Rng, tf, type Latents, type TokenSequence } from '@mige/core';
import { TEST_BACKENDS, useBackend } from '@mige/core/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { applyCfgDropout, cfgDropoutDecisions } from '../../src/train/index.js';

describe('cfgDropoutDecisions', () => {
  it('uses the reference thresholds exactly (< 0.05, [0.05, 0.10), [0.10, 0.15))', () => {
    const u = [0, 0.04999999, 0.05, 0.09999999, 0.1, 0.14999999, 0.15, 0.5, 0.99999];
    const { dropY, dropSource } = cfgDropoutDecisions(u, u.length);
    expect(dropY).toEqual([true, true, false, false, true, true, false, false, false]);
    expect(dropSource).toEqual([false, false, true, true, true, true, false, false, false]);
  });

  it('takes other probabilities', () => {
    const probs = { instruction: 0.2, source: 0, both: 0.3 };
    const { dropY, dropSource } = cfgDropoutDecisions([0.19, 0.2, 0.49, 0.5], 4, probs);
    expect(dropY).toEqual([true, true, true, false]);
    expect(dropSource).toEqual([false, true, true, false]);
    const none = cfgDropoutDecisions([0, 0.5], 2, { instruction: 0, source: 0, both: 0 });
    expect([...none.dropY, ...none.dropSource]).toEqual([false, false, false, false]);
  });

  it('hits each outcome at its rate over 100k draws from an Rng (within 4σ)', () => {
    const n = 100_000;
    const { dropY, dropSource } = cfgDropoutDecisions(new Rng(1234), n);
    const count = (pred: (i: number) => boolean): number => {
      let c = 0;
      for (let i = 0; i < n; i++) if (pred(i)) c++;
      return c;
    };
    const sigma = (p: number): number => Math.sqrt(n * p * (1 - p));
    const outcomes: [string, number, number][] = [
      ['y only', count((i) => !!dropY[i] && !dropSource[i]), 0.05],
      ['source only', count((i) => !dropY[i] && !!dropSource[i]), 0.05],
      ['both', count((i) => !!dropY[i] && !!dropSource[i]), 0.05],
      ['neither', count((i) => !dropY[i] && !dropSource[i]), 0.85],
    ];
    for (const [label, c, p] of outcomes) {
      expect(Math.abs(c - n * p), `${label}: ${c} of ${n}`).toBeLessThanOrEqual(4 * sigma(p));
    }
  });

  it('draws one uniform per item, in order, from the Rng', () => {
    const u = Array.from({ length: 64 }, (() => {
      const r = new Rng(7);
      return () => r.uniform();
    })());
    expect(cfgDropoutDecisions(new Rng(7), 64)).toEqual(cfgDropoutDecisions(u, 64));
  });

  it('rejects bad probabilities and uniforms with MigeInputError', () => {
    expect(() => cfgDropoutDecisions([0.5], 1, { instruction: -0.1 })).toThrow(/instruction must be a probability in \[0, 1\], got -0.1/);
    expect(() => cfgDropoutDecisions([0.5], 1, { instruction: 0.5, source: 0.4, both: 0.2 })).toThrow(/must be ≤ 1, got 1.1/);
    expect(() => cfgDropoutDecisions([0.5], 1, { both: Number.NaN })).toThrow(MigeInputError);
    expect(() => cfgDropoutDecisions([0.5, 0.2], 3)).toThrow(/got 2 uniforms for a batch of 3/);
    expect(() => cfgDropoutDecisions([1], 1)).toThrow(/u\[0\] = 1 is not in \[0, 1\)/);
    // All mass on dropping is allowed.
    expect(cfgDropoutDecisions([0.99], 1, { instruction: 0.5, source: 0.25, both: 0.25 })).toEqual({ dropY: [true], dropSource: [true] });
  });
});

describe.each(TEST_BACKENDS)('applyCfgDropout on %s', (backend) => {
  beforeAll(async () => {
    await useBackend(backend);
  });

  it('swaps in the null y and zeroes the source per item', () => {
    const y = tf.reshape(tf.range(1, 25), [4, 3, 2]) as TokenSequence; // values 1..24
    const cond = tf.fill([4, 2, 2, 2], -7) as Latents;
    const nullY = tf.tensor2d([[100, 101], [102, 103], [104, 105]]);
    const decisions = { dropY: [false, true, false, true], dropSource: [false, false, true, true] };
    const out = applyCfgDropout({ y, cond }, decisions, nullY);
    const ys = out.y.arraySync();
    expect(ys[0]).toEqual([[1, 2], [3, 4], [5, 6]]);
    expect(ys[1]).toEqual([[100, 101], [102, 103], [104, 105]]);
    expect(ys[2]).toEqual([[13, 14], [15, 16], [17, 18]]);
    expect(ys[3]).toEqual([[100, 101], [102, 103], [104, 105]]);
    const sums = tf.sum(out.cond, [1, 2, 3]).arraySync();
    expect(sums).toEqual([-56, -56, 0, 0]);
    expect(out.cond.shape).toEqual([4, 2, 2, 2]);
  });

  it('passes gradients to the kept y and to the null y', () => {
    const y = tf.ones([2, 3, 2]) as TokenSequence;
    const cond = tf.ones([2, 1, 1, 1]) as Latents;
    const decisions = { dropY: [true, false], dropSource: [false, false] };
    const g = tf.grads((yy: tf.Tensor, nn: tf.Tensor) =>
      tf.sum(applyCfgDropout({ y: yy as TokenSequence, cond }, decisions, nn as tf.Tensor2D).y),
    )([y, tf.zeros([3, 2])]);
    expect(tf.sum(g[0] as tf.Tensor, [1, 2]).arraySync()).toEqual([0, 6]);
    expect((g[1] as tf.Tensor).arraySync()).toEqual([[1, 1], [1, 1], [1, 1]]);
  });

  it('checks shapes and decision lengths', () => {
    const y = tf.zeros([2, 3, 2]) as TokenSequence;
    const cond = tf.zeros([2, 4, 2, 2]) as Latents;
    const ok = { dropY: [false, false], dropSource: [false, false] };
    expect(() => applyCfgDropout({ y, cond }, ok, tf.zeros([4, 2]))).toThrow(/nullY has shape \[4, 2\]/);
    expect(() => applyCfgDropout({ y, cond: tf.zeros([3, 4, 2, 2]) as Latents }, ok, tf.zeros([3, 2]))).toThrow(/cond has shape/);
    expect(() => applyCfgDropout({ y, cond }, { dropY: [true], dropSource: [false, false] }, tf.zeros([3, 2]))).toThrow(
      /decisions.dropY has 1 entries for a batch of 2/,
    );
  });
});
