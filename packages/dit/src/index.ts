/**
 * @mige/dit: MIGE's diffusion backbone (PixArt-α DiT with the conditional input on channels)
 * behind core's DiffusionBackbone, a swappable DiT-style adaLN-Zero alternative, presets,
 * checkpoint layouts and FLOP counts. See README.md.
 */
export const packageName = '@mige/dit';

export { MIGE_XL_2, MIGE_TINY, DIT_ADALN_ZERO_TINY, derivedSizes, validateConfig, type BackboneType, type DerivedSizes, type DitConfig } from './config.js';
export { createBackbone, DitBackbone } from './backbone.js';
export { ConditionalDiT, type DitBlock, type DitFinalLayer, type DitForwardOptions, type DitOptions } from './conditional-dit.js';
export { PixArtDiT, PixArtBlock, T2IFinalLayer } from './pixart.js';
export { AdaLnZeroDiT, AdaLnZeroBlock, AdaLnFinalLayer } from './dit-adaln-zero.js';
export { PatchEmbed, TimestepEmbedder, CaptionEmbedder, sincosPositionTable, TIMESTEP_FREQUENCY_SIZE } from './embedders.js';
export { SelfAttention, CrossAttention, Mlp, crossAttentionBias } from './layers.js';
export { fromDiffusersPixArt, ditKeysOfMigeCheckpoint } from './dit-keys.js';
export { forwardFlops } from './flops.js';
export * from './onnx-emitters.js';
