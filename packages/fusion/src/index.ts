/**
 * @mige/fusion: MIGE's feature fusion module (FFM), which fuses Q-Former tokens with the
 * reference image's VAE features through the backbone's patch embedder, behind the
 * `FeatureFusion` interface. See README.md.
 */
export const packageName = '@mige/fusion';

export { FFM_MIGE, FFM_TINY, validateFfmConfig, type FfmConfig, type FusionConfig } from './config.js';
export { FFM } from './ffm.js';
export { ProjectionMlp } from './projection.js';
export { createFusion, FfmFusion, NoFusion, type FeatureFusion } from './fusion.js';
export { fuseItems, type FusionItem } from './batch.js';
export * from './onnx-emitters.js';
