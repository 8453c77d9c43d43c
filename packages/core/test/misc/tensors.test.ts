import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkShapes } from '../../src/tensors.js';
import { MigeInputError } from '../../src/errors.js';
import { useBackend } from '../helpers.js';

describe('checkShapes', () => {
  beforeAll(() => useBackend('cpu'));

  it('binds symbolic dims across tensors and returns them', () => {
    const x = tf.zeros([2, 4, 8, 8]);
    const mask = tf.zeros([2, 256]);
    expect(checkShapes('f', { x: [x, ['B', 4, 'H', 'W']], mask: [mask, ['B', 'L']] })).toEqual({ B: 2, H: 8, W: 8, L: 256 });
  });

  it('names the tensor, the expected and the actual shape', () => {
    const x = tf.zeros([2, 4, 8, 8]);
    expect(() => checkShapes('DiT.forward', { x: [x, ['B', 3, 'H', 'W']] })).toThrow(
      'DiT.forward: x has shape [2, 4, 8, 8], expected [B, 3, H, W] (dim 1 must be 3)',
    );
    expect(() => checkShapes('f', { x: [x, ['B', 4, 'H', 'W']], mask: [tf.zeros([3, 7]), ['B', 'L']] })).toThrow(
      'f: mask has shape [3, 7], expected [B=2, L] (dim 0 (B) must be 2)',
    );
    expect(() => checkShapes('f', { t: [tf.zeros([2, 1]), ['B']] })).toThrow(/rank 2, expected rank 1/);
    expect(() => checkShapes('f', { t: [undefined, ['B']] })).toThrow(MigeInputError);
  });
});
