import { nn, tf } from '@mige/core';
import { mergeHeads, splitHeads } from './heads.js';

/** LAVIS Qformer.py's BERT layers (query path only), with its attribute names. */

/** `query`, `key`, `value`: softmax(q·kᵀ/√d)·v per head; keys and values may come from a context of another width. */
class BertSelfAttention extends nn.Module {
  readonly query: nn.Linear;
  readonly key: nn.Linear;
  readonly value: nn.Linear;
  constructor(hidden: number, readonly numHeads: number, contextWidth: number) {
    super();
    this.query = this.module('query', new nn.Linear(hidden, hidden));
    this.key = this.module('key', new nn.Linear(contextWidth, hidden));
    this.value = this.module('value', new nn.Linear(contextWidth, hidden));
  }
  /** x [B, Q, D], context [B, S, Dc] → [B, Q, D] (no mask: MIGE's masks are all ones) */
  forward(x: tf.Tensor3D, context: tf.Tensor3D): tf.Tensor3D {
    const h = this.numHeads;
    const q = splitHeads(this.query.forward(x), h);
    const out = nn.attention(q, splitHeads(this.key.forward(context), h), splitHeads(this.value.forward(context), h), 1 / Math.sqrt(q.shape[2]));
    return mergeHeads(out, h);
  }
}

/** `dense`, `LayerNorm`: post-LN residual, LN(dense(h) + input). Also BERT's output_query. */
class BertOutput extends nn.Module {
  readonly dense: nn.Linear;
  readonly layerNorm: nn.LayerNorm;
  constructor(inFeatures: number, hidden: number, eps: number) {
    super();
    this.dense = this.module('dense', new nn.Linear(inFeatures, hidden));
    this.layerNorm = this.module('LayerNorm', new nn.LayerNorm(hidden, eps));
  }
  forward(h: tf.Tensor, input: tf.Tensor3D): tf.Tensor3D {
    return this.layerNorm.forward(tf.add(this.dense.forward(h), input)) as tf.Tensor3D;
  }
}

/** BertAttention: `self` then `output`. */
class BertAttention extends nn.Module {
  readonly self: BertSelfAttention;
  readonly output: BertOutput;
  constructor(hidden: number, heads: number, contextWidth: number, eps: number) {
    super();
    this.self = this.module('self', new BertSelfAttention(hidden, heads, contextWidth));
    this.output = this.module('output', new BertOutput(hidden, hidden, eps));
  }
  forward(x: tf.Tensor3D, context: tf.Tensor3D): tf.Tensor3D {
    return this.output.forward(this.self.forward(x, context), x);
  }
}

/** `dense` then exact GELU (BERT's hidden_act "gelu"). */
class BertIntermediate extends nn.Module {
  readonly dense: nn.Linear;
  constructor(hidden: number, intermediate: number) {
    super();
    this.dense = this.module('dense', new nn.Linear(hidden, intermediate));
  }
  forward(x: tf.Tensor): tf.Tensor {
    return nn.geluErf(this.dense.forward(x));
  }
}

export interface BertLayerDims {
  hidden: number;
  heads: number;
  intermediate: number;
  encoderWidth: number;
  eps: number;
}

/**
 * A Q-Former layer on the query tokens: self-attention, cross-attention to the image (only
 * when `hasCrossAttention`), then the query FFN. The text-path `intermediate` / `output`
 * modules are absent, as MIGE prunes them.
 */
export class BertLayer extends nn.Module {
  readonly attention: BertAttention;
  readonly crossattention?: BertAttention;
  readonly intermediateQuery: BertIntermediate;
  readonly outputQuery: BertOutput;
  constructor(d: BertLayerDims, hasCrossAttention: boolean) {
    super();
    this.attention = this.module('attention', new BertAttention(d.hidden, d.heads, d.hidden, d.eps));
    if (hasCrossAttention) this.crossattention = this.module('crossattention', new BertAttention(d.hidden, d.heads, d.encoderWidth, d.eps));
    this.intermediateQuery = this.module('intermediate_query', new BertIntermediate(d.hidden, d.intermediate));
    this.outputQuery = this.module('output_query', new BertOutput(d.intermediate, d.hidden, d.eps));
  }
  /** x [B, Q, D], imageEmbeds [B, S, Dv] → [B, Q, D] */
  forward(x: tf.Tensor3D, imageEmbeds: tf.Tensor3D): tf.Tensor3D {
    let h = this.attention.forward(x, x);
    if (this.crossattention) h = this.crossattention.forward(h, imageEmbeds);
    return this.outputQuery.forward(this.intermediateQuery.forward(h), h);
  }
}
