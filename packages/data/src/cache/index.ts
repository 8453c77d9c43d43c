/** Feature cache: VAE posteriors and ViT features per image, in safetensors shards keyed by content hash. */
export { FeatureCache } from './feature-cache.js';
export { hashBytes, hashFile, hashPixels } from './hash.js';
export type { BuildOptions, BuildProgress, BuildResult, CacheEncoders, CachedFeatures, CacheIndex, FeatureTensor } from './types.js';
