import { emitParam, type OnnxBuilder } from '@mige/core';
import type { T5Encoder } from './t5-encoder.js';
import { emitT5Block, emitT5LayerNorm } from './t5-layers.onnx.js';
import { relativePositionBucket } from './t5-position.js';

/** torch.finfo(float32).min, HF T5's additive value for masked keys (as t5-encoder.ts). */
const FLOAT32_MIN = -3.4028234663852886e38;

export interface T5OnnxInputs {
  /** inputs_embeds [B, L, D] float32. */
  inputsEmbeds: string;
  /** attention_mask [B, L] float32, 1 valid / 0 padding. */
  attentionMask: string;
}

/**
 * T5Encoder.forward on inputs_embeds (MIGE's path) → last_hidden_state [B, L, D]. The bucket
 * table is built for `maxLength` tokens and its top-left L×L corner is sliced at run time
 * (bucket(j − i) depends only on j − i), so any L ≤ maxLength runs through the same graph.
 */
export function emitT5Encoder(g: OnnxBuilder, m: T5Encoder, inputs: T5OnnxInputs, maxLength: number, name = ''): string {
  const c = m.config;
  const buckets = Array.from({ length: maxLength * maxLength }, (_, n) => relativePositionBucket((n % maxLength) - Math.floor(n / maxLength), c.numBuckets, c.maxDistance));
  const table = g.constantI64(buckets, [maxLength, maxLength], 'relative_position_bucket');
  const l = g.shape(inputs.inputsEmbeds, 1, 2);
  const used = g.sliceDynamic(table, g.constantI64([0, 0]), g.concat([l, l], 0), [0, 1]); // [L, L]
  const rel = m.encoder.block.at(0).selfAttention.relativeAttentionBias;
  if (!rel) throw new Error('T5 block 0 has no relative_attention_bias');
  const biasTable = emitParam(g, `${name}encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight`, rel.weight);
  const positionBias = g.unsqueeze(g.transpose(g.gather(biasTable, used, 0), [2, 0, 1]), [0]); // [1, H, L, L]
  const maskBias = g.reshape(g.mulScalar(g.sub(g.scalar(1), inputs.attentionMask), FLOAT32_MIN), [0, 1, 1, -1]);
  const bias = g.add(positionBias, maskBias);
  let h = inputs.inputsEmbeds;
  m.encoder.block.items.forEach((b, i) => (h = emitT5Block(g, b, h, bias, `${name}encoder.block.${i}`)));
  return emitT5LayerNorm(g, m.encoder.finalLayerNorm, h, `${name}encoder.final_layer_norm`);
}
