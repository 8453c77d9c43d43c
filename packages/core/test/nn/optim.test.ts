import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { AdamW } from '../../src/nn/index.js';
import { expectClose, useBackend } from '../helpers.js';
import { ref } from './refs.js';


describe('AdamW', () => {
  beforeAll(() => useBackend('wasm'));

  it('matches torch.optim.AdamW + clip_grad_norm_ over 3 steps', () => {
    const p1 = tf.variable(ref('adamw.init.p1'));
    const p2 = tf.variable(ref('adamw.init.p2'));
    const opt = new AdamW([['p1', p1], ['p2', p2]], { lr: 1e-2, betas: [0.9, 0.95], eps: 1e-8, weightDecay: 0.03, maxGradNorm: 1 });
    for (let s = 0; s < 3; s++) {
      const { gradNorm } = opt.apply({ p1: ref(`adamw.grad${s}.p1`), p2: ref(`adamw.grad${s}.p2`) });
      expect(gradNorm).toBeCloseTo(ref(`adamw.norm${s}`).dataSync()[0] as number, 4);
      expectClose(p1, ref(`adamw.after${s}.p1`), 1e-6, `p1 step ${s}`);
      expectClose(p2, ref(`adamw.after${s}.p2`), 1e-6, `p2 step ${s}`);
    }
  });

  it('decays the learning rate along a cosine after the warm-up, to minLrRatio · lr', () => {
    const p = tf.variable(tf.ones([1]));
    const opt = new AdamW([['p', p]], { lr: 1, warmupSteps: 2, cosineDecaySteps: 6, minLrRatio: 0.1 });
    const lrs = [1, 2, 3, 4, 6, 10].map((t) => opt.lrAt(t));
    const expected = [0.5, 1, 0.1 + 0.9 * 0.5 * (1 + Math.cos(Math.PI / 4)), 0.55, 0.1, 0.1];
    lrs.forEach((v, i) => expect(v).toBeCloseTo(expected[i] as number, 12));
    expect(() => new AdamW([['p', p]], { lr: 1, minLrRatio: 2 })).toThrow(/minLrRatio must be in \[0, 1\], got 2/);
  });

  it('warms the learning rate up linearly and saves/restores its moments', () => {
    const p = tf.variable(tf.ones([3]));
    const opt = new AdamW([['p', p]], { lr: 0.1, warmupSteps: 4 });
    expect([1, 2, 4, 9].map((t) => opt.lrAt(t))).toEqual([0.025, 0.05, 0.1, 0.1]);
    opt.apply({ p: tf.tensor([1, -2, 3]) });
    const q = tf.variable(p.clone());
    const resumed = new AdamW([['p', q]], { lr: 0.1, warmupSteps: 4 });
    resumed.loadStateDict(opt.stateDict(), opt.step);
    expect(resumed.step).toBe(1);
    for (const o of [opt, resumed]) o.apply({ p: tf.tensor([0.5, -0.25, 2]) });
    expectClose(q, p, 0, 'resumed parameter');
    expect(Math.abs((p.dataSync()[0] as number) - 1)).toBeGreaterThan(1e-3);
    expect(() => resumed.loadStateDict(new Map(), 1)).toThrow(/lacks exp_avg\.p/);
  });
});
