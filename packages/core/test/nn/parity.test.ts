// nn modules against values computed by PyTorch 1.13 (test/data/nn/gen_nn_refs.py).
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { Conv2d, Embedding, GELU, GroupNorm, LayerNorm, Linear, MultiheadAttention } from '../../src/nn/index.js';
import { TEST_BACKENDS, expectClose, useBackend } from '../helpers.js';
import { CONV_CASES, loadCase, ref } from './refs.js';

const bool = (name: string) => tf.cast(ref(name), 'bool');

const load = loadCase;

const TOL = 1e-5;

describe.each(TEST_BACKENDS)('nn parity with PyTorch on %s', (backend) => {
  beforeAll(() => useBackend(backend));

  it('MultiheadAttention: self-attention, seq-first, key padding mask, averaged weights', () => {
    const m = load(new MultiheadAttention(32, 4), 'mha_self');
    const x = ref('mha_self.in.x');
    const [y, w] = m.forward(x, x, x, { keyPaddingMask: bool('mha_self.in.key_padding_mask'), needWeights: true });
    expectClose(y, ref('mha_self.out.y'), TOL, 'y');
    expectClose(w as tf.Tensor, ref('mha_self.out.weights'), TOL, 'weights');
  });

  it('MultiheadAttention: cross-attention with kdim/vdim, batch-first, float attn mask + padding', () => {
    const m = load(new MultiheadAttention(24, 3, { kdim: 20, vdim: 12, batchFirst: true }), 'mha_cross');
    const [y, w] = m.forward(ref('mha_cross.in.q'), ref('mha_cross.in.k'), ref('mha_cross.in.v'), {
      attnMask: ref('mha_cross.in.attn_mask'),
      keyPaddingMask: bool('mha_cross.in.key_padding_mask'),
      needWeights: true,
    });
    expectClose(y, ref('mha_cross.out.y'), TOL, 'y');
    expectClose(w as tf.Tensor, ref('mha_cross.out.weights'), TOL, 'weights');
  });

  it('MultiheadAttention: per-head boolean mask [B·H, L, S], no bias', () => {
    const m = load(new MultiheadAttention(16, 2, { batchFirst: true, bias: false }), 'mha_boolmask');
    const kv = ref('mha_boolmask.in.kv');
    const [y] = m.forward(ref('mha_boolmask.in.q'), kv, kv, { attnMask: bool('mha_boolmask.in.attn_mask') });
    expectClose(y, ref('mha_boolmask.out.y'), TOL, 'y');
  });

  it('LayerNorm with and without affine parameters', () => {
    const x = ref('ln_affine.in.x');
    expectClose(load(new LayerNorm(16, 1e-6), 'ln_affine').forward(x), ref('ln_affine.out.y'), TOL);
    const plain = new LayerNorm(16, 1e-5, false);
    expect(plain.namedParameters()).toHaveLength(0);
    expectClose(plain.forward(x), ref('ln_plain.out.y'), TOL);
  });

  it('GroupNorm', () => {
    expectClose(load(new GroupNorm(4, 16, 1e-6), 'gn').forward(ref('gn.in.x')), ref('gn.out.y'), TOL);
  });

  it.each(CONV_CASES)('Conv2d %s: forward and gradients', (name, cin, cout, k, stride, padding, dilation) => {
    const m = load(new Conv2d(cin, cout, k, { stride, padding, dilation }), name);
    const x = ref(`${name}.in.x`);
    const r = ref(`${name}.in.r`);
    expectClose(m.forward(x), ref(`${name}.out.y`), TOL, 'y');
    const { grads } = tf.variableGrads(() => tf.sum(tf.mul(m.forward(x), r)) as tf.Scalar, [m.weight, m.bias as tf.Variable]);
    expectClose(grads[m.weight.name] as tf.Tensor, ref(`${name}.grad.weight`), 1e-4, 'dW');
    expectClose(grads[(m.bias as tf.Variable).name] as tf.Tensor, ref(`${name}.grad.bias`), 1e-4, 'db');
    const dx = tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(m.forward(xx), r)))(x);
    expectClose(dx, ref(`${name}.grad.x`), 1e-4, 'dx');
  });

  it('GELU exact and tanh, values and gradients', () => {
    const x = ref('gelu.in.x');
    for (const kind of ['erf', 'tanh'] as const) {
      const g = new GELU(kind === 'erf' ? 'none' : 'tanh');
      expectClose(g.forward(x), ref(`gelu.out.${kind}`), TOL, kind);
      expectClose(tf.grad((v: tf.Tensor) => tf.sum(g.forward(v)))(x), ref(`gelu.grad.${kind}`), TOL, `${kind} grad`);
    }
  });

  it('Linear and Embedding', () => {
    expectClose(load(new Linear(7, 5), 'linear').forward(ref('linear.in.x')), ref('linear.out.y'), TOL);
    const ids = tf.cast(ref('embedding.in.ids'), 'int32');
    expectClose(load(new Embedding(11, 6), 'embedding').forward(ids), ref('embedding.out.y'), TOL);
  });
});
