import { nn, tf, type FeatureFusion, type FusionItem, type Latents, type PatchEmbedder, type TokenSequence } from '@mige/core';
import type { MigeEncoderModule } from './module.js';

/** One item's images and latents that the sequence actually uses (n ≥ 0). */
export interface UsedImages {
  images: tf.Tensor4D;
  latents: Latents;
}

/**
 * ViT → ln_vision → Q-Former → fusion → t5_proj for the real images of the whole batch at once:
 * per item [n, Q, D_t5]. Items without images get [0, Q, D_t5] and add no work (the reference
 * runs 4 slots per sample, empty ones as zeros, whose outputs it never uses).
 */
export function imageTokens(
  module: MigeEncoderModule,
  items: readonly UsedImages[],
  fusion: FeatureFusion,
  patchEmbedder: PatchEmbedder,
): TokenSequence[] {
  const q = module.config.qformer.numQueryTokens;
  const dq = module.config.qformer.hiddenSize;
  const dt5 = module.config.t5.dModel;
  const counts = items.map((it) => it.images.shape[0]);
  const withImages = items.filter((_, i) => (counts[i] as number) > 0);
  if (withImages.length === 0) return items.map(() => tf.zeros([0, q, dt5]));
  return tf.tidy(() => {
    const images = withImages.length === 1 ? (withImages[0] as UsedImages).images : tf.concat(withImages.map((it) => it.images), 0);
    const queries = module.qformer.forward(module.vision.forward(images));
    const split = nn.splitParts(queries, withImages.map((it) => it.images.shape[0]), 0);
    let next = 0;
    const fusionItems: FusionItem[] = items.map((it, i) => ({
      tokens: (counts[i] as number) > 0 ? (split[next++] as TokenSequence) : tf.zeros([0, q, dq]),
      latents: it.latents,
    }));
    const fused = fusion.fuseBatch(fusionItems, patchEmbedder).filter((_, i) => (counts[i] as number) > 0);
    const projected = module.t5Proj.forward(fused.length === 1 ? (fused[0] as TokenSequence) : tf.concat(fused, 0)) as TokenSequence;
    const perItem = nn.splitParts(projected, withImages.map((it) => it.images.shape[0]), 0);
    next = 0;
    return items.map((_, i) => ((counts[i] as number) > 0 ? (perItem[next++] as TokenSequence) : tf.zeros([0, q, dt5])));
  });
}
