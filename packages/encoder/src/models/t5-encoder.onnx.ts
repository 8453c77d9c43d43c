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

/** A part of the encoder: blocks [start, end), then the final layer norm when `end` is the last block. */
export interface T5EncoderPart {
  start: number;
  end: number;
}

/**
 * T5Encoder.forward on inputs_embeds (MIGE's path) → last_hidden_state [B, L, D]. The bucket
 * table is built for `maxLength` tokens and its top-left L×L corner is sliced at run time
 * (bucket(j − i) depends only on j − i), so any L ≤ maxLength runs through the same graph.
 * With `part`, only those blocks (each part computes the position bias from block 0's table):
 * chaining the parts' graphs is the whole encoder, with one part's weights in memory at a time.
 */
export function emitT5Encoder(g: OnnxBuilder, m: T5Encoder, inputs: T5OnnxInputs, maxLength: number, name = '', part?: T5EncoderPart): string {
  const depth = m.encoder.block.length;
  const { start, end } = part ?? { start: 0, end: depth };
  if (!(Number.isInteger(start) && Number.isInteger(end) && start >= 0 && start < end && end <= depth)) {
    throw new Error(`T5 encoder part [${start}, ${end}) is not within its ${depth} blocks`);
  }
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
  for (let i = start; i < end; i++) h = emitT5Block(g, m.encoder.block.at(i), h, bias, `${name}encoder.block.${i}`);
  return end === depth ? emitT5LayerNorm(g, m.encoder.finalLayerNorm, h, `${name}encoder.final_layer_norm`) : h;
}
