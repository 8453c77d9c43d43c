import * as tf from '@tensorflow/tfjs-core';
import { MigeInputError } from '../errors.js';
import { Module } from './module.js';
import { isInitSkipped, xavierUniform, zerosInit } from './init.js';
import { Linear } from './layers.js';
import { attention, linear, mergeHeads, splitHeads } from './ops.js';

export interface MultiheadAttentionOptions {
  bias?: boolean;
  /** Key/value feature sizes when they differ from embedDim (uses q/k/v_proj_weight). */
  kdim?: number;
  vdim?: number;
  /** Inputs are [B, L, E] instead of PyTorch's default [L, B, E]. */
  batchFirst?: boolean;
}

export interface AttentionMasks {
  /** [B, S]: boolean (true = ignore this key) or float (added to the scores). */
  keyPaddingMask?: tf.Tensor;
  /** [L, S] or [B·heads, L, S]: boolean (true = not allowed) or float (added). */
  attnMask?: tf.Tensor;
  /** Also return the attention weights, averaged over heads: [B, L, S]. */
  needWeights?: boolean;
}

/**
 * torch.nn.MultiheadAttention (dropout 0, no add_bias_kv / add_zero_attn) with its parameter
 * names: in_proj_weight / in_proj_bias (or q/k/v_proj_weight when kdim or vdim differ) and
 * out_proj. Masks follow PyTorch: boolean true masks a position out, float masks are added.
 * Unlike PyTorch, weights are only computed when asked for (needWeights defaults to false).
 */
export class MultiheadAttention extends Module {
  readonly headDim: number;
  readonly kdim: number;
  readonly vdim: number;
  readonly batchFirst: boolean;
  readonly inProjWeight?: tf.Variable;
  readonly qProjWeight?: tf.Variable;
  readonly kProjWeight?: tf.Variable;
  readonly vProjWeight?: tf.Variable;
  readonly inProjBias?: tf.Variable;
  readonly outProj: Linear;

  constructor(readonly embedDim: number, readonly numHeads: number, options: MultiheadAttentionOptions = {}) {
    super();
    if (embedDim % numHeads !== 0) {
      throw new MigeInputError(`embed_dim ${embedDim} is not divisible by num_heads ${numHeads}`, 'MultiheadAttention');
    }
    this.headDim = embedDim / numHeads;
    this.kdim = options.kdim ?? embedDim;
    this.vdim = options.vdim ?? embedDim;
    this.batchFirst = options.batchFirst ?? false;
    const bias = options.bias ?? true;
    if (this.kdim === embedDim && this.vdim === embedDim) {
      this.inProjWeight = this.param('in_proj_weight', xavierUniform([3 * embedDim, embedDim]));
    } else {
      this.qProjWeight = this.param('q_proj_weight', xavierUniform([embedDim, embedDim]));
      this.kProjWeight = this.param('k_proj_weight', xavierUniform([embedDim, this.kdim]));
      this.vProjWeight = this.param('v_proj_weight', xavierUniform([embedDim, this.vdim]));
    }
    if (bias) this.inProjBias = this.param('in_proj_bias', zerosInit([3 * embedDim]));
    this.outProj = this.module('out_proj', new Linear(embedDim, embedDim, bias));
    // Skipped init already gives zeros (and a shape-only bias has nothing to assign).
    if (this.outProj.bias && !isInitSkipped()) this.outProj.bias.assign(tf.zeros([embedDim]));
  }

  /**
   * query [L, B, E] (or [B, L, E] with batchFirst), key [S, B, kdim], value [S, B, vdim].
   * Returns the output in the query's layout and, with needWeights, weights [B, L, S].
   */
  forward(query: tf.Tensor, key: tf.Tensor, value: tf.Tensor, masks: AttentionMasks = {}): [tf.Tensor, tf.Tensor?] {
    const where = 'MultiheadAttention';
    for (const [n, t, d] of [['query', query, this.embedDim], ['key', key, this.kdim], ['value', value, this.vdim]] as const) {
      if (t.rank !== 3 || t.shape[2] !== d) throw new MigeInputError(`${n} has shape [${t.shape}], expected rank 3 with last dim ${d}`, where);
    }
    const toBF = (t: tf.Tensor) => (this.batchFirst ? t : tf.transpose(t, [1, 0, 2]));
    const q0 = toBF(query), k0 = toBF(key), v0 = toBF(value);
    const [b, l] = q0.shape as [number, number];
    const s = k0.shape[1] as number;
    if (k0.shape[0] !== b || v0.shape[0] !== b || v0.shape[1] !== s) {
      throw new MigeInputError(`query, key and value batch/length disagree: [${query.shape}], [${key.shape}], [${value.shape}]`, where);
    }
    const e = this.embedDim, h = this.numHeads, hd = this.headDim;
    const biasPart = (i: number) => (this.inProjBias ? tf.slice(this.inProjBias, [i * e], [e]) : undefined);
    let q: tf.Tensor, k: tf.Tensor, v: tf.Tensor;
    if (this.inProjWeight && query === key && key === value) {
      // Self-attention: one product for q, k and v.
      const qkv = linear(q0, this.inProjWeight, this.inProjBias);
      [q, k, v] = tf.split(qkv, 3, -1) as [tf.Tensor, tf.Tensor, tf.Tensor];
    } else {
      const w = (i: number, sep?: tf.Variable) => sep ?? tf.slice(this.inProjWeight as tf.Tensor, [i * e, 0], [e, e]);
      q = linear(q0, w(0, this.qProjWeight), biasPart(0));
      k = linear(k0, w(1, this.kProjWeight), biasPart(1));
      v = linear(v0, w(2, this.vProjWeight), biasPart(2));
    }
    const mask = this.additiveMask(masks, b, l, s);
    const scale = 1 / Math.sqrt(hd);
    const qh = splitHeads(q, h), kh = splitHeads(k, h);
    const merged = mergeHeads(attention(qh, kh, splitHeads(v, h), scale, mask), h);
    const y = this.outProj.forward(merged);
    const result = this.batchFirst ? y : tf.transpose(y, [1, 0, 2]);
    if (!masks.needWeights) return [result];
    let scores: tf.Tensor = tf.matMul(tf.mul(qh, scale), kh, false, true);
    if (mask) scores = tf.add(scores, mask);
    const weights = tf.mean(tf.reshape(tf.softmax(scores), [b, h, l, s]), 1);
    return [result, weights];
  }

  /** Both masks as one additive float tensor broadcastable to [B·heads, L, S]. */
  private additiveMask(masks: AttentionMasks, b: number, l: number, s: number): tf.Tensor | undefined {
    const where = 'MultiheadAttention';
    const h = this.numHeads;
    const toFloat = (m: tf.Tensor) => (m.dtype === 'bool' ? tf.where(m, tf.scalar(-Infinity), tf.scalar(0)) : m);
    let total: tf.Tensor | undefined;
    if (masks.keyPaddingMask) {
      const m = masks.keyPaddingMask;
      if (m.rank !== 2 || m.shape[0] !== b || m.shape[1] !== s) throw new MigeInputError(`keyPaddingMask has shape [${m.shape}], expected [${b}, ${s}]`, where);
      total = tf.reshape(tf.tile(tf.reshape(toFloat(m), [b, 1, 1, s]), [1, h, 1, 1]), [b * h, 1, s]);
    }
    if (masks.attnMask) {
      const m = masks.attnMask;
      const ok = (m.rank === 2 && m.shape[0] === l && m.shape[1] === s) || (m.rank === 3 && m.shape[0] === b * h && m.shape[1] === l && m.shape[2] === s);
      if (!ok) throw new MigeInputError(`attnMask has shape [${m.shape}], expected [${l}, ${s}] or [${b * h}, ${l}, ${s}]`, where);
      const f = toFloat(m);
      total = total ? tf.add(total, f) : f;
    }
    return total;
  }
}
