import * as tf from '@tensorflow/tfjs-core';
import { centerCrop } from './crop-pad.js';
import { resize } from './resize.js';
import { resizeShortSide } from './resize-short-side.js';
import { chwToTensor, normalizeImage } from './tensor.js';
import type { ChwImage, RgbImage, RgbTriple } from './types.js';

/** OpenAI CLIP's image statistics, used by BLIP's eval transform. */
export const CLIP_MEAN: RgbTriple = [0.48145466, 0.4578275, 0.40821073];
export const CLIP_STD: RgbTriple = [0.26862954, 0.26130258, 0.27577711];
/** Normalize([0.5], [0.5]): maps [0, 1] to [-1, 1] for the VAE. */
export const VAE_MEAN: RgbTriple = [0.5, 0.5, 0.5];
export const VAE_STD: RgbTriple = [0.5, 0.5, 0.5];

/**
 * MIGE's VAE input transform: Resize(size) (short side, bilinear), CenterCrop(size), ToTensor,
 * Normalize([0.5], [0.5]). Result [3, size, size] float32 in [-1, 1].
 */
export function vaeTransform(img: RgbImage, size = 512): ChwImage {
  const square = centerCrop(resizeShortSide(img, size, 'bilinear'), size, size);
  return normalizeImage(square, { mean: VAE_MEAN, std: VAE_STD });
}

/**
 * BLIP's eval transform: Resize((size, size), BICUBIC) (aspect ratio not kept), ToTensor,
 * Normalize(CLIP_MEAN, CLIP_STD). Result [3, size, size] float32.
 */
export function blipEvalTransform(img: RgbImage, size = 224): ChwImage {
  return normalizeImage(resize(img, size, size, 'bicubic'), { mean: CLIP_MEAN, std: CLIP_STD });
}

/** vaeTransform over a batch → [B, 3, size, size]. */
export function vaeTransformBatch(images: readonly RgbImage[], size = 512): tf.Tensor4D {
  return chwToTensor(images.map((img) => vaeTransform(img, size)));
}

/** blipEvalTransform over a batch → [B, 3, size, size]. */
export function blipEvalTransformBatch(images: readonly RgbImage[], size = 224): tf.Tensor4D {
  return chwToTensor(images.map((img) => blipEvalTransform(img, size)));
}
