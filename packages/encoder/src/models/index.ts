/** The encoder's neural networks: T5 encoder, EVA ViT-g + ln_vision, BLIP-2 Q-Former, t5_proj. */
export type { TraceFn } from './heads.js';
export { T5_V1_1_XXL, FLAN_T5_XXL, T5_TINY, parseT5Config, type T5EncoderConfig } from './t5-config.js';
export { relativePositionBucket, relativePositionBuckets } from './t5-position.js';
export { T5LayerNorm, T5Attention, T5DenseGatedActDense, T5Block } from './t5-layers.js';
export { T5Encoder, createT5Encoder, tiedT5Embeddings, type T5EncoderInput, type T5ForwardOptions } from './t5-encoder.js';
export { loadT5Encoder, openT5Checkpoint, type T5Checkpoint } from './t5-load.js';
export { EVA_VIT_G, EVA_VIT_TINY, evaMlpHidden, type EvaViTConfig } from './eva-vit-config.js';
export { EvaViT, type VisionForwardOptions } from './eva-vit.js';
export { VisionEncoder, createVisionEncoder } from './vision-encoder.js';
export { BLIP2_QFORMER, QFORMER_TINY, type QFormerConfig } from './qformer-config.js';
export { BertLayer } from './qformer-layers.js';
export { QFormer, createQFormer, type QFormerForwardOptions } from './qformer.js';
export { lavisQFormerKey, hfQFormerKey, detectQFormerLayout, qformerCheckpointReader, type QFormerKeyLayout } from './qformer-keys.js';
export { createT5Proj } from './t5-proj.js';
