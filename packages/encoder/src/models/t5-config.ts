import { MigeInputError } from '@mige/core';

/** T5 v1.1 / Flan-T5 encoder hyper-parameters (HF T5Config names in the docs). */
export interface T5EncoderConfig {
  /** vocab_size */
  vocabSize: number;
  /** d_model */
  dModel: number;
  /** d_kv: channels per head */
  dKv: number;
  /** d_ff: gated feed-forward width */
  dFf: number;
  /** num_layers */
  numLayers: number;
  /** num_heads */
  numHeads: number;
  /** relative_attention_num_buckets */
  numBuckets: number;
  /** relative_attention_max_distance */
  maxDistance: number;
  /** layer_norm_epsilon */
  layerNormEps: number;
}

/** google/t5-v1_1-xxl encoder (4.7B parameters). */
export const T5_V1_1_XXL: T5EncoderConfig = {
  vocabSize: 32128, dModel: 4096, dKv: 64, dFf: 10240, numLayers: 24, numHeads: 64,
  numBuckets: 32, maxDistance: 128, layerNormEps: 1e-6,
};

/** google/flan-t5-xxl encoder: the same architecture as T5 v1.1 XXL. */
export const FLAN_T5_XXL: T5EncoderConfig = { ...T5_V1_1_XXL };

/** The `t5_encoder` golden fixture's config. */
export const T5_TINY: T5EncoderConfig = {
  vocabSize: 2100, dModel: 64, dKv: 16, dFf: 128, numLayers: 2, numHeads: 4,
  numBuckets: 32, maxDistance: 128, layerNormEps: 1e-6,
};

/** Reads an HF T5Config (config.json) for a gated-GELU (v1.1 / Flan) T5. */
export function parseT5Config(json: unknown, where = 'config.json'): T5EncoderConfig {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new MigeInputError('is not a JSON object', where);
  const o = json as Record<string, unknown>;
  const int = (key: string, fallback?: number): number => {
    const v = o[key] ?? fallback;
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) throw new MigeInputError(`${key} must be a positive integer, got ${JSON.stringify(v)}`, where);
    return v;
  };
  const act = o.feed_forward_proj ?? 'relu';
  // Only the gated-GELU FF (v1.1, Flan, MIGE's T5-XL/XXL) is implemented; T5 v1.0's ReLU FF has other weights.
  if (act !== 'gated-gelu') throw new MigeInputError(`feed_forward_proj ${JSON.stringify(act)} is not supported (expected "gated-gelu")`, where);
  const eps = o.layer_norm_epsilon ?? 1e-6;
  if (typeof eps !== 'number' || !(eps > 0)) throw new MigeInputError(`layer_norm_epsilon must be a positive number`, where);
  const config: T5EncoderConfig = {
    vocabSize: int('vocab_size'),
    dModel: int('d_model'),
    dKv: int('d_kv'),
    dFf: int('d_ff'),
    numLayers: int('num_layers'),
    numHeads: int('num_heads'),
    numBuckets: int('relative_attention_num_buckets', 32),
    maxDistance: int('relative_attention_max_distance', 128),
    layerNormEps: eps,
  };
  if (config.numBuckets % 2 !== 0) throw new MigeInputError('relative_attention_num_buckets must be even', where);
  return config;
}
