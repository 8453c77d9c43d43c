import { nn, tf } from '@mige/core';
import { mergeHeads, splitHeads } from './heads.js';

/** T5's layers with HF T5 attribute names. No Linear has a bias. */

/** T5LayerNorm (RMSNorm): w · x / √(mean(x²) + eps); no mean subtraction, no bias. */
export class T5LayerNorm extends nn.Module {
  readonly weight: tf.Variable;
  constructor(readonly dim: number, readonly eps = 1e-6) {
    super();
    this.weight = this.param('weight', nn.onesInit([dim]));
  }
  /** x [..., D] → [..., D] */
  forward(x: tf.Tensor): tf.Tensor {
    const variance = tf.mean(tf.square(x), -1, true);
    return tf.mul(this.weight, tf.mul(x, tf.rsqrt(tf.add(variance, this.eps))));
  }
}

/** T5Attention (encoder self-attention): q, k, v, o; scores are not scaled by 1/√d. */
export class T5Attention extends nn.Module {
  readonly q: nn.Linear;
  readonly k: nn.Linear;
  readonly v: nn.Linear;
  readonly o: nn.Linear;
  /** [numBuckets, heads]; only block 0 has it (its bias is shared by all blocks). */
  readonly relativeAttentionBias?: nn.Embedding;

  constructor(dModel: number, readonly numHeads: number, dKv: number, numBuckets?: number) {
    super();
    const inner = numHeads * dKv;
    this.q = this.module('q', new nn.Linear(dModel, inner, false));
    this.k = this.module('k', new nn.Linear(dModel, inner, false));
    this.v = this.module('v', new nn.Linear(dModel, inner, false));
    this.o = this.module('o', new nn.Linear(inner, dModel, false));
    if (numBuckets !== undefined) this.relativeAttentionBias = this.module('relative_attention_bias', new nn.Embedding(numBuckets, numHeads));
  }

  /**
   * x [B, L, D], bias [B·H, L, L] (position bias + key mask) → [B, L, D]. The bias receives its
   * gradient through nn.attention, which trains the relative bias table.
   */
  forward(x: tf.Tensor3D, bias: tf.Tensor3D): tf.Tensor3D {
    const h = this.numHeads;
    const [q, k, v] = [this.q, this.k, this.v].map((l) => splitHeads(l.forward(x), h)) as [tf.Tensor3D, tf.Tensor3D, tf.Tensor3D];
    const out = nn.attention(q, k, v, 1, bias);
    return this.o.forward(mergeHeads(out, h)) as tf.Tensor3D;
  }
}

/** T5DenseGatedActDense: wo(gelu_new(wi_0 x) · wi_1 x). */
export class T5DenseGatedActDense extends nn.Module {
  readonly wi0: nn.Linear;
  readonly wi1: nn.Linear;
  readonly wo: nn.Linear;
  constructor(dModel: number, dFf: number) {
    super();
    this.wi0 = this.module('wi_0', new nn.Linear(dModel, dFf, false));
    this.wi1 = this.module('wi_1', new nn.Linear(dModel, dFf, false));
    this.wo = this.module('wo', new nn.Linear(dFf, dModel, false));
  }
  forward(x: tf.Tensor): tf.Tensor {
    return this.wo.forward(tf.mul(nn.geluTanh(this.wi0.forward(x)), this.wi1.forward(x)));
  }
}

/** T5LayerSelfAttention: `SelfAttention`, `layer_norm` (pre-norm, residual). */
class T5LayerSelfAttention extends nn.Module {
  readonly selfAttention: T5Attention;
  readonly layerNorm: T5LayerNorm;
  constructor(dModel: number, heads: number, dKv: number, eps: number, numBuckets?: number) {
    super();
    this.selfAttention = this.module('SelfAttention', new T5Attention(dModel, heads, dKv, numBuckets));
    this.layerNorm = this.module('layer_norm', new T5LayerNorm(dModel, eps));
  }
  forward(x: tf.Tensor3D, bias: tf.Tensor3D): tf.Tensor3D {
    return tf.add(x, this.selfAttention.forward(this.layerNorm.forward(x) as tf.Tensor3D, bias));
  }
}

/** T5LayerFF: `DenseReluDense`, `layer_norm` (pre-norm, residual). */
class T5LayerFF extends nn.Module {
  readonly ff: T5DenseGatedActDense;
  readonly layerNorm: T5LayerNorm;
  constructor(dModel: number, dFf: number, eps: number) {
    super();
    this.ff = this.module('DenseReluDense', new T5DenseGatedActDense(dModel, dFf));
    this.layerNorm = this.module('layer_norm', new T5LayerNorm(dModel, eps));
  }
  forward(x: tf.Tensor3D): tf.Tensor3D {
    return tf.add(x, this.ff.forward(this.layerNorm.forward(x)));
  }
}

/** Holds the attention and FF sublayers under HF's `layer.0` / `layer.1`. */
class T5BlockLayers extends nn.Module {
  readonly attn: T5LayerSelfAttention;
  readonly ff: T5LayerFF;
  constructor(attn: T5LayerSelfAttention, ff: T5LayerFF) {
    super();
    this.attn = this.module('0', attn);
    this.ff = this.module('1', ff);
  }
}

export interface T5BlockDims {
  dModel: number;
  numHeads: number;
  dKv: number;
  dFf: number;
  eps: number;
}

/** T5Block (encoder): `layer.0` self-attention, `layer.1` FF. */
export class T5Block extends nn.Module {
  readonly layer: T5BlockLayers;
  constructor(d: T5BlockDims, numBuckets?: number) {
    super();
    this.layer = this.module('layer', new T5BlockLayers(
      new T5LayerSelfAttention(d.dModel, d.numHeads, d.dKv, d.eps, numBuckets),
      new T5LayerFF(d.dModel, d.dFf, d.eps),
    ));
  }
  get selfAttention(): T5Attention {
    return this.layer.attn.selfAttention;
  }
  /** x [B, L, D], bias [B·H, L, L] → [B, L, D] */
  forward(x: tf.Tensor3D, bias: tf.Tensor3D): tf.Tensor3D {
    return this.layer.ff.forward(this.layer.attn.forward(x, bias));
  }
}
