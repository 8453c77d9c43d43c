// EMA of parameters (PixArt/MIGE ema_update: ema ← rate·ema + (1 − rate)·param), by hand values.
import { MigeInputError, tf } from '@mige/core';
import { TEST_BACKENDS, useBackend } from '@mige/core/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { Ema } from '../../src/train/index.js';

const values = (t: tf.Tensor): number[] => Array.from(t.dataSync());

describe.each(TEST_BACKENDS)('Ema on %s', (backend) => {
  beforeAll(async () => {
    await useBackend(backend);
  });

  function setup(decay = 0.9): { w: tf.Variable; b: tf.Variable; ema: Ema } {
    const w = tf.variable(tf.tensor2d([[1, 2], [3, 4]]));
    const b = tf.variable(tf.tensor1d([10]));
    return { w, b, ema: new Ema([['layer.weight', w], ['layer.bias', b]], decay) };
  }

  it('starts as a copy and moves by decay·ema + (1 − decay)·param', () => {
    const { w, b, ema } = setup(0.9);
    expect(values(ema.stateDict().get('layer.weight') as tf.Tensor)).toEqual([1, 2, 3, 4]);
    w.assign(tf.tensor2d([[11, 12], [13, 14]]));
    b.assign(tf.tensor1d([0]));
    ema.update();
    // 0.9·1 + 0.1·11 = 2, 0.9·2 + 0.1·12 = 3, …; 0.9·10 + 0.1·0 = 9
    const sd = ema.stateDict();
    values(sd.get('layer.weight') as tf.Tensor).forEach((v, i) => expect(v).toBeCloseTo([2, 3, 4, 5][i] as number, 5));
    expect(values(sd.get('layer.bias') as tf.Tensor)[0]).toBeCloseTo(9, 5);
    ema.update(); // 0.9·2 + 0.1·11 = 2.9; 0.9·9 = 8.1
    expect(values(ema.stateDict().get('layer.weight') as tf.Tensor)[0]).toBeCloseTo(2.9, 5);
    expect(values(ema.stateDict().get('layer.bias') as tf.Tensor)[0]).toBeCloseTo(8.1, 5);
    ema.update(0); // rate 0 copies, as the reference's first ema_update(…, 0.)
    expect(values(ema.stateDict().get('layer.weight') as tf.Tensor)).toEqual([11, 12, 13, 14]);
    expect([...ema.stateDict().keys()]).toEqual(['layer.weight', 'layer.bias']);
  });

  it('swaps EMA weights in and restores the training weights', async () => {
    const { w, b, ema } = setup(0.5);
    w.assign(tf.tensor2d([[3, 4], [5, 6]]));
    ema.update(); // ema w = [2, 3, 4, 5]
    ema.copyTo();
    expect(values(w)).toEqual([2, 3, 4, 5]);
    expect(() => ema.update()).toThrow(/restore\(\) first/);
    ema.restore();
    expect(values(w)).toEqual([3, 4, 5, 6]);
    const seen = await ema.withEmaWeights(() => values(w));
    expect(seen).toEqual([2, 3, 4, 5]);
    expect(values(w)).toEqual([3, 4, 5, 6]);
    await expect(ema.withEmaWeights(() => { throw new Error('boom'); })).rejects.toThrow('boom');
    expect(values(w)).toEqual([3, 4, 5, 6]);
    expect(values(b)).toEqual([10]);
    expect(() => ema.restore()).toThrow(MigeInputError);
  });

  it('saves and loads its state by parameter name, checking names and shapes', () => {
    const a = setup(0.9);
    a.w.assign(tf.tensor2d([[5, 5], [5, 5]]));
    a.ema.update(0.5); // [3, 3.5, 4, 4.5]
    const saved = new Map([...a.ema.stateDict()].map(([k, t]) => [k, tf.clone(t)]));
    const c = setup(0.9);
    c.ema.loadStateDict(saved);
    expect(values(c.ema.stateDict().get('layer.weight') as tf.Tensor)).toEqual([3, 3.5, 4, 4.5]);
    expect(() => c.ema.loadStateDict(new Map([['layer.weight', tf.zeros([2, 2])]]), 'ema.safetensors')).toThrow(
      /ema.safetensors: lacks the EMA weight layer.bias/,
    );
    expect(() => c.ema.loadStateDict(new Map([...saved, ['layer.bias', tf.zeros([2])]]))).toThrow(/layer.bias has shape \[2\], expected \[1\]/);
    expect(() => c.ema.loadStateDict(new Map([...saved, ['extra', tf.zeros([1])]]))).toThrow(/unexpected EMA weights: extra/);
  });

  it('rejects a bad decay and duplicate names', () => {
    const w = tf.variable(tf.zeros([1]));
    expect(() => new Ema([['w', w]], 1.5)).toThrow(/decay must be in \[0, 1\], got 1.5/);
    expect(() => new Ema([['w', w], ['w', w]], 0.9)).toThrow(/listed twice/);
  });

  it('leaks no tensors per update', () => {
    const { ema } = setup(0.9);
    ema.update();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) ema.update();
    expect(tf.memory().numTensors).toBe(before);
  });
});
