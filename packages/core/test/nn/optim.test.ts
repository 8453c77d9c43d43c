import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { AdamW, FlatAdamW, Float32Arena } from '../../src/nn/index.js';
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

describe('FlatAdamW', () => {
  beforeAll(() => useBackend('wasm'));

  it('matches torch.optim.AdamW + clip_grad_norm_ over 3 steps, as AdamW does', () => {
    const p1 = Float32Array.from(ref('adamw.init.p1').dataSync());
    const p2 = Float32Array.from(ref('adamw.init.p2').dataSync());
    const opt = new FlatAdamW([{ name: 'p1', data: p1 }, { name: 'p2', data: p2 }], { lr: 1e-2, betas: [0.9, 0.95], eps: 1e-8, weightDecay: 0.03, maxGradNorm: 1 });
    for (let s = 0; s < 3; s++) {
      const grads = new Map([['p1', Float32Array.from(ref(`adamw.grad${s}.p1`).dataSync())], ['p2', Float32Array.from(ref(`adamw.grad${s}.p2`).dataSync())]]);
      const { gradNorm } = opt.apply(grads);
      expect(gradNorm).toBeCloseTo(ref(`adamw.norm${s}`).dataSync()[0] as number, 4);
      expectClose(tf.tensor(p1, ref(`adamw.after${s}.p1`).shape), ref(`adamw.after${s}.p1`), 1e-6, `p1 step ${s}`);
      expectClose(tf.tensor(p2, ref(`adamw.after${s}.p2`).shape), ref(`adamw.after${s}.p2`), 1e-6, `p2 step ${s}`);
    }
  });

  it('runs the same arithmetic as AdamW: without clipping the weights are equal bit for bit, in an arena (WebAssembly SIMD) or not', () => {
    const sizes = [7, 4096, 1, 1027];
    const config = { lr: 0.01, weightDecay: 0.02, warmupSteps: 1 };
    const init = sizes.map((n, i) => Float32Array.from({ length: n }, (_, j) => Math.sin(i * 7 + j)));
    const grad = (s: number, i: number, n: number) => Float32Array.from({ length: n }, (_, j) => Math.cos(i + j * 3 + s) * 0.1);
    const tfParams: [string, tf.Variable][] = init.map((d, i) => [`p${i}`, tf.variable(tf.tensor(d))]);
    const reference = new AdamW(tfParams, config);
    const arena = new Float32Arena(12 * sizes.reduce((a, b) => a + b, 0) + 256); // weights, moments, EMA, 4 steps of gradients
    const inArena = init.map((d, i) => {
      const data = arena.alloc(d.length);
      data.set(d);
      return { name: `p${i}`, data };
    });
    const plain = init.map((d, i) => ({ name: `p${i}`, data: d.slice() }));
    const a = new FlatAdamW(inArena, config, { arena }), b = new FlatAdamW(plain, config);
    const emaA = new Map(inArena.map((p) => { const e = arena.alloc(p.data.length); e.set(p.data); return [p.name, e]; }));
    const emaB = new Map(plain.map((p) => [p.name, p.data.slice()]));
    for (let s = 0; s < 4; s++) {
      const grads = (alloc: (n: number) => Float32Array) => new Map(sizes.map((n, i) => {
        const g = alloc(n);
        g.set(grad(s, i, n));
        return [`p${i}`, g];
      }));
      reference.apply(Object.fromEntries(sizes.map((n, i) => [`p${i}`, tf.tensor(grad(s, i, n))])));
      a.apply(grads((n) => arena.alloc(n)), { shadows: emaA, decay: 0.9 });
      b.apply(grads((n) => new Float32Array(n)), { shadows: emaB, decay: 0.9 });
    }
    tfParams.forEach(([, p], i) => {
      const want = p.dataSync() as Float32Array;
      expect(Buffer.from((inArena[i] as { data: Float32Array }).data.buffer, (inArena[i] as { data: Float32Array }).data.byteOffset, want.byteLength).equals(Buffer.from(want.buffer, want.byteOffset, want.byteLength))).toBe(true);
      expect([...(plain[i] as { data: Float32Array }).data]).toEqual([...want]);
      expect([...(emaA.get(`p${i}`) as Float32Array)]).toEqual([...(emaB.get(`p${i}`) as Float32Array)]);
    });
  });

  it('follows AdamW step for step (schedule, clipping, state names), leaving params without a gradient alone', () => {
    const config = { lr: 0.05, warmupSteps: 2, cosineDecaySteps: 5, minLrRatio: 0.2, maxGradNorm: 0.5, weightDecay: 0.01 };
    const init = [Float32Array.of(0.5, -1, 2), Float32Array.of(3, 0.25)];
    const tfParams: [string, tf.Variable][] = [['a', tf.variable(tf.tensor(init[0] as Float32Array))], ['b', tf.variable(tf.tensor(init[1] as Float32Array))]];
    const flat = [{ name: 'a', data: (init[0] as Float32Array).slice() }, { name: 'b', data: (init[1] as Float32Array).slice() }];
    const reference = new AdamW(tfParams, config);
    const ours = new FlatAdamW(flat, config);
    for (let s = 0; s < 5; s++) {
      const ga = Float32Array.of(0.3 * s - 0.2, 0.7, -0.1 * s);
      const gb = Float32Array.of(1.5, -0.4 * s);
      // Step 2 gives `b` no gradient: both optimizers leave it (and its moments) as they are.
      const withB = s !== 2;
      const r1 = reference.apply({ a: tf.tensor(ga), ...(withB ? { b: tf.tensor(gb) } : {}) });
      const r2 = ours.apply(new Map([['a', ga], ...(withB ? [['b', gb] as const] : [])]));
      expect(r2.lr).toBe(r1.lr);
      expect(r2.gradNorm).toBeCloseTo(r1.gradNorm, 5);
      tfParams.forEach(([, p], i) => expectClose(tf.tensor((flat[i] as { data: Float32Array }).data), p, 1e-6, `param ${i} step ${s}`));
    }
    expect([...ours.stateDict().keys()]).toEqual([...reference.stateDict().keys()]);
    const reloaded = new FlatAdamW(flat.map((p) => ({ name: p.name, data: p.data.slice() })), config);
    reloaded.loadStateDict(ours.stateDict(), ours.step);
    expect(reloaded.step).toBe(5);
    expect(() => reloaded.loadStateDict(new Map(), 1)).toThrow(/lacks exp_avg\.a/);
    expect(() => ours.apply(new Map([['a', new Float32Array(2)]]))).toThrow(/gradient of a has 2 values for 3 weights/);
  });
});
