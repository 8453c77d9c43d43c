import { EVA_VIT_G, EVA_VIT_TINY, type EvaViTConfig } from '../models/eva-vit-config.js';
import { BLIP2_QFORMER, QFORMER_TINY, type QFormerConfig } from '../models/qformer-config.js';
import { T5_TINY, T5_V1_1_XXL, type T5EncoderConfig } from '../models/t5-config.js';

/** The sizes of MIGE's instruction encoder: its three networks and the sequence length. */
export interface MigeEncoderConfig {
  vision: EvaViTConfig;
  qformer: QFormerConfig;
  t5: T5EncoderConfig;
  /** Condition length L: sequences are padded or truncated to it (MIGE: 256). */
  maxLength: number;
  /** Image slots per instruction (MIGE: 4). */
  maxImages: number;
}

/** MIGE: EVA ViT-g, BLIP-2's Q-Former (32 queries), T5-XXL (v1.1 and Flan share the shape), L = 256. */
export const MIGE_ENCODER: Readonly<MigeEncoderConfig> = Object.freeze({
  vision: EVA_VIT_G,
  qformer: BLIP2_QFORMER,
  t5: T5_V1_1_XXL,
  maxLength: 256,
  maxImages: 4,
});

/** The `mige_encoder_e2e` golden fixture: 28 px images, 8 queries, tiny T5, L = 32. */
export const MIGE_ENCODER_TINY: Readonly<MigeEncoderConfig> = Object.freeze({
  vision: EVA_VIT_TINY,
  qformer: QFORMER_TINY,
  t5: T5_TINY,
  maxLength: 32,
  maxImages: 4,
});
