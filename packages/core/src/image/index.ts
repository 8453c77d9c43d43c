/** Image IO and PIL/torchvision-exact preprocessing for MIGE.js. */
export type { ChwImage, ImageFormat, ResampleFilter, RgbImage, RgbTriple } from './types.js';
export { assertRgbImage, cloneRgbImage, createRgbImage } from './rgb-image.js';
export { DEFAULT_IMAGE_LIMITS, type ImageLimits } from './limits.js';
export { sniffImageFormat } from './format-sniff.js';
export { decodeImage, decodeImageDetailed, type DecodedImage, type DecodeOptions } from './decode.js';
export { encodeImage, formatFromPath, writeImage, type EncodeOptions } from './encode.js';
export { resize } from './resize.js';
export { resizeShortSide, shortSideOutputSize } from './resize-short-side.js';
export { centerCrop, crop, padImage } from './crop-pad.js';
export { chwToTensor, imageToTensor, normalizeImage, tensorToImages, type NormalizeOptions } from './tensor.js';
export {
  blipEvalTransform,
  blipEvalTransformBatch,
  CLIP_MEAN,
  CLIP_STD,
  VAE_MEAN,
  VAE_STD,
  vaeTransform,
  vaeTransformBatch,
} from './presets.js';
