import { emitLayerNorm, type OnnxBuilder } from '@mige/core';
import { emitEvaViT } from './eva-vit.onnx.js';
import type { VisionEncoder } from './vision-encoder.js';

/** VisionEncoder: images [B, 3, S, S] → ln_vision(EvaViT(images)) [B, 1 + N, D], under MIGE's names. */
export function emitVisionEncoder(g: OnnxBuilder, m: VisionEncoder, images: string): string {
  return emitLayerNorm(g, m.lnVision, emitEvaViT(g, m.visualEncoder, images, 'visual_encoder'), 'ln_vision');
}
