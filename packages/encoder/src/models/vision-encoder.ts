import { nn, tf, type ImageBatch, type TokenSequence } from '@mige/core';
import { EvaViT, type VisionForwardOptions } from './eva-vit.js';
import type { EvaViTConfig } from './eva-vit-config.js';

/**
 * MIGE's / BLIP-2's image path: `visual_encoder` (EVA ViT, frozen and in eval mode, as MIGE
 * freezes it) then `ln_vision` (LayerNorm eps 1e-5, trainable as in LAVIS). Keys match a MIGE
 * checkpoint's `visual_encoder.*` and `ln_vision.*`.
 */
export class VisionEncoder extends nn.Module {
  readonly visualEncoder: EvaViT;
  readonly lnVision: nn.LayerNorm;

  constructor(readonly config: EvaViTConfig) {
    super();
    this.visualEncoder = this.module('visual_encoder', new EvaViT(config));
    this.lnVision = this.module('ln_vision', new nn.LayerNorm(config.embedDim, 1e-5));
  }

  /** images [B, 3, S, S] (blipEvalTransform output) → image embeds [B, 1 + N, D] */
  forward(images: ImageBatch, options: VisionForwardOptions = {}): TokenSequence {
    const vit = this.visualEncoder.forward(images, options);
    options.trace?.('vit_out', vit);
    const out = tf.tidy(() => this.lnVision.forward(vit) as TokenSequence);
    options.trace?.('ln_vision_out', out);
    // The ViT output is only an intermediate, unless a gradient tape still needs it.
    if (!tf.engine().isTapeOn()) vit.dispose();
    return out;
  }
}

/** EVA ViT + ln_vision with random (or, inside nn.withoutInit, zero) weights. */
export function createVisionEncoder(config: EvaViTConfig): VisionEncoder {
  return new VisionEncoder(config);
}
