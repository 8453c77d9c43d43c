/** The DiT's ONNX emitters, one file beside each module. */
export { emitConditionalDiT, emitDitBackbone, type DitOnnxInputs } from './conditional-dit.onnx.js';
export { emitPatchEmbed, emitTimestepEmbedder, emitCaptionEmbedder } from './embedders.onnx.js';
export { emitPixArtBlock, emitPixArtBlockCondition, emitT2IFinalLayer } from './pixart.onnx.js';
export { emitAdaLnZeroBlock, emitAdaLnFinalLayer } from './dit-adaln-zero.onnx.js';
export { emitMlp, emitSelfAttention, emitCrossAttention, emitCrossAttentionMask, emitModulate, emitBlockNorm } from './layers.onnx.js';
