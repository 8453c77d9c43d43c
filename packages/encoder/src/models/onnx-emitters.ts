/** The encoder networks' ONNX emitters, one file beside each module. */
export { emitEvaViT } from './eva-vit.onnx.js';
export { emitVisionEncoder } from './vision-encoder.onnx.js';
export { emitQFormer, emitBertLayer } from './qformer.onnx.js';
export { emitT5Encoder, type T5EncoderPart, type T5OnnxInputs } from './t5-encoder.onnx.js';
export { emitT5Block, emitT5Attention, emitT5LayerNorm, emitT5DenseGatedActDense } from './t5-layers.onnx.js';
export { emitT5Proj } from './t5-proj.onnx.js';
