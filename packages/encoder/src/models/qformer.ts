import { checkShapes, nn, tf, type TokenSequence } from '@mige/core';
import type { TraceFn } from './heads.js';
import type { QFormerConfig } from './qformer-config.js';
import { BertLayer } from './qformer-layers.js';
import { qformerCheckpointReader } from './qformer-keys.js';

/** `LayerNorm` only: query tokens get no position embeddings. */
class BertEmbeddings extends nn.Module {
  readonly layerNorm: nn.LayerNorm;
  constructor(hidden: number, eps: number) {
    super();
    this.layerNorm = this.module('LayerNorm', new nn.LayerNorm(hidden, eps));
  }
}

class BertEncoder extends nn.Module {
  readonly layer: nn.ModuleList<BertLayer>;
  constructor(c: QFormerConfig) {
    super();
    const dims = { hidden: c.hiddenSize, heads: c.numHeads, intermediate: c.intermediateSize, encoderWidth: c.encoderWidth, eps: c.layerNormEps };
    this.layer = this.module('layer', new nn.ModuleList(Array.from({ length: c.numLayers }, (_, i) => new BertLayer(dims, i % c.crossAttentionFreq === 0))));
  }
}

class BertModel extends nn.Module {
  readonly embeddings: BertEmbeddings;
  readonly encoder: BertEncoder;
  constructor(c: QFormerConfig) {
    super();
    this.embeddings = this.module('embeddings', new BertEmbeddings(c.hiddenSize, c.layerNormEps));
    this.encoder = this.module('encoder', new BertEncoder(c));
  }
}

/** Holds `bert`, as LAVIS's BertLMHeadModel does once MIGE has removed its `cls` head. */
class QformerHolder extends nn.Module {
  readonly bert: BertModel;
  constructor(c: QFormerConfig) {
    super();
    this.bert = this.module('bert', new BertModel(c));
  }
}

export interface QFormerForwardOptions {
  /** Receives `embeddings_out` and `layer_out.i`, each [B, Q, D]. */
  trace?: TraceFn;
}

/**
 * BLIP-2's Q-Former, query path only (as MIGE runs it): learned `query_tokens` [1, Q, D] →
 * embeddings LayerNorm → post-LN BERT layers that self-attend, cross-attend to the image every
 * `crossAttentionFreq` layers, and run the query FFN. State-dict keys are MIGE's
 * (`Qformer.bert.*`, `query_tokens`); `loadStateDict` also takes the HF Blip2 layout (see
 * qformer-keys.ts).
 */
export class QFormer extends nn.Module {
  readonly qformer: QformerHolder;
  readonly queryTokens: tf.Variable;

  constructor(readonly config: QFormerConfig) {
    super();
    this.qformer = this.module('Qformer', new QformerHolder(config));
    // BLIP-2 draws the queries from N(0, initializer_range = 0.02).
    this.queryTokens = this.param('query_tokens', nn.normalInit([1, config.numQueryTokens, config.hiddenSize], 0.02));
  }

  /** imageEmbeds [B, S, encoderWidth] (ln_vision output) → query output [B, Q, hiddenSize] */
  forward(imageEmbeds: TokenSequence, options: QFormerForwardOptions = {}): TokenSequence {
    const c = this.config;
    const { B } = checkShapes('QFormer.forward', { imageEmbeds: [imageEmbeds, ['B', '*', c.encoderWidth]] });
    const trace = options.trace ?? (() => undefined);
    const bert = this.qformer.bert;
    return tf.tidy(() => {
      const queries = tf.broadcastTo(this.queryTokens, [B as number, c.numQueryTokens, c.hiddenSize]);
      let h = bert.embeddings.layerNorm.forward(queries) as tf.Tensor3D;
      trace('embeddings_out', h);
      const context = tf.cast(imageEmbeds, 'float32') as tf.Tensor3D;
      bert.encoder.layer.items.forEach((layer, i) => {
        h = layer.forward(h, context);
        trace(`layer_out.${i}`, h);
      });
      return h;
    });
  }

  /** Loads MIGE / LAVIS or HF Blip2 names; unused text-path tensors are dropped, not reported. */
  override loadStateDict(source: nn.StateDict | nn.TensorReader, options: nn.LoadOptions = {}): nn.LoadReport {
    return super.loadStateDict(qformerCheckpointReader(source).reader, options);
  }
}

/** A Q-Former with random (or, inside nn.withoutInit, zero) weights. */
export function createQFormer(config: QFormerConfig): QFormer {
  return new QFormer(config);
}
