import { emitAttention, emitGeluErf, emitLayerNorm, emitLinear, emitParam, type OnnxBuilder } from '@mige/core';
import type { QFormer } from './qformer.js';
import type { BertLayer } from './qformer-layers.js';

type BertAttention = BertLayer['attention'];
type BertOutput = BertLayer['outputQuery'];

/** BertOutput: LayerNorm(dense(h) + input). */
function emitBertOutput(g: OnnxBuilder, m: BertOutput, h: string, input: string, name: string): string {
  return emitLayerNorm(g, m.layerNorm, g.add(emitLinear(g, m.dense, h, `${name}.dense`), input), `${name}.LayerNorm`);
}

/** BertAttention: queries from x, keys and values from `context`, 1/√headDim, no mask; then BertOutput. */
function emitBertAttention(g: OnnxBuilder, m: BertAttention, x: string, context: string, name: string): string {
  const s = m.self;
  const q = emitLinear(g, s.query, x, `${name}.self.query`);
  const k = emitLinear(g, s.key, context, `${name}.self.key`);
  const v = emitLinear(g, s.value, context, `${name}.self.value`);
  const out = emitAttention(g, q, k, v, { heads: s.numHeads, scale: 1 / Math.sqrt(s.query.outFeatures / s.numHeads) });
  return emitBertOutput(g, m.output, out, x, `${name}.output`);
}

/** BertLayer on the query tokens: self-attention, (cross-attention to the image), query FFN with exact GELU. */
export function emitBertLayer(g: OnnxBuilder, m: BertLayer, x: string, imageEmbeds: string, name: string): string {
  let h = emitBertAttention(g, m.attention, x, x, `${name}.attention`);
  if (m.crossattention) h = emitBertAttention(g, m.crossattention, h, imageEmbeds, `${name}.crossattention`);
  const inter = emitGeluErf(g, emitLinear(g, m.intermediateQuery.dense, h, `${name}.intermediate_query.dense`));
  return emitBertOutput(g, m.outputQuery, inter, h, `${name}.output_query`);
}

/** QFormer: imageEmbeds [B, S, encoderWidth] → query output [B, Q, hidden]. */
export function emitQFormer(g: OnnxBuilder, m: QFormer, imageEmbeds: string): string {
  const c = m.config;
  const bert = m.qformer.bert;
  const shape = g.concat([g.shape(imageEmbeds, 0, 1), g.constantI64([c.numQueryTokens, c.hiddenSize])], 0);
  const queries = g.expand(emitParam(g, 'query_tokens', m.queryTokens), shape);
  let h = emitLayerNorm(g, bert.embeddings.layerNorm, queries, 'Qformer.bert.embeddings.LayerNorm');
  bert.encoder.layer.items.forEach((layer, i) => (h = emitBertLayer(g, layer, h, imageEmbeds, `Qformer.bert.encoder.layer.${i}`)));
  return h;
}
