/** The VAE's ONNX emitters (NCHW graphs), one file beside each module. */
export { emitVaeEncoder, emitVaeDecoder, emitVaeEncodeMoments, emitVaeDecode } from './autoencoder-kl.onnx.js';
export { emitDownsample2D, emitUpsample2D, emitDownEncoderBlock2D, emitUpDecoderBlock2D, emitUNetMidBlock2D } from './blocks.onnx.js';
export { emitResnetBlock2D, emitNormSilu } from './resnet.onnx.js';
export { emitVaeAttention } from './attention.onnx.js';
