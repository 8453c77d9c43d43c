/** BLIP-2 Q-Former hyper-parameters (BERT config names in the docs). */
export interface QFormerConfig {
  /** hidden_size */
  hiddenSize: number;
  /** num_hidden_layers */
  numLayers: number;
  /** num_attention_heads */
  numHeads: number;
  /** intermediate_size (the query FFN width) */
  intermediateSize: number;
  /** encoder_width: the image embeddings' width (vision_width) */
  encoderWidth: number;
  /** cross_attention_freq: layer i cross-attends when i % freq == 0 */
  crossAttentionFreq: number;
  /** num_query_token */
  numQueryTokens: number;
  /** layer_norm_eps */
  layerNormEps: number;
}

/** BLIP-2's Q-Former over EVA ViT-g (bert-base sizes, 32 queries), as MIGE builds it. */
export const BLIP2_QFORMER: QFormerConfig = {
  hiddenSize: 768, numLayers: 12, numHeads: 12, intermediateSize: 3072,
  encoderWidth: 1408, crossAttentionFreq: 2, numQueryTokens: 32, layerNormEps: 1e-12,
};

/** The `qformer` golden fixture's config. */
export const QFORMER_TINY: QFormerConfig = {
  hiddenSize: 48, numLayers: 2, numHeads: 4, intermediateSize: 96,
  encoderWidth: 48, crossAttentionFreq: 2, numQueryTokens: 8, layerNormEps: 1e-12,
};
