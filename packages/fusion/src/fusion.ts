import { checkShapes, MigeInputError, tf, type FeatureFusion, type FusionItem, type Latents, type PatchEmbedder, type TokenSequence } from '@mige/core';
import type { FusionConfig } from './config.js';
import { FFM } from './ffm.js';
import { fuseItems } from './batch.js';

// The FeatureFusion interface lives in @mige/core (the encoder consumes it); re-exported here.
export type { FeatureFusion } from '@mige/core';

const LATENT_CHANNELS = 4;

function checkFuseInputs(where: string, queryTokens: TokenSequence, referenceLatents: Latents): void {
  checkShapes(where, {
    queryTokens: [queryTokens, ['B', 'Q', 'D']],
    referenceLatents: [referenceLatents, ['B', LATENT_CHANNELS, 'h', 'w']],
  });
}

/** MIGE's fusion: zero-pad the latent to the embedder's channels, patch-embed it, then FFM. */
export class FfmFusion implements FeatureFusion {
  readonly type = 'ffm' as const;
  constructor(readonly module: FFM) {}

  fuse(queryTokens: TokenSequence, referenceLatents: Latents, patchEmbedder: PatchEmbedder): TokenSequence {
    const where = 'FfmFusion.fuse';
    checkFuseInputs(where, queryTokens, referenceLatents);
    const { vaeDim } = this.module.config;
    if (patchEmbedder.hiddenSize !== vaeDim) {
      throw new MigeInputError(`the patch embedder's hidden size ${patchEmbedder.hiddenSize} differs from the FFM's vaeDim ${vaeDim}`, where);
    }
    const extra = patchEmbedder.inChannels - LATENT_CHANNELS;
    if (extra < 0) {
      throw new MigeInputError(`the patch embedder takes ${patchEmbedder.inChannels} channels, fewer than the latent's ${LATENT_CHANNELS}`, where);
    }
    const [, , h, w] = referenceLatents.shape;
    const p = patchEmbedder.patchSize;
    if (h % p !== 0 || w % p !== 0) throw new MigeInputError(`latent size ${h}x${w} is not divisible by the patch size ${p}`, where);
    return tf.tidy(() => {
      // MIGE embeds cat([latent, zeros]) on channels: the conditional-input half of the DiT's
      // input is empty for reference images.
      const padded = extra === 0 ? referenceLatents : tf.pad(referenceLatents, [[0, 0], [0, extra], [0, 0], [0, 0]]);
      return this.module.forward(queryTokens, patchEmbedder.embed(padded));
    });
  }

  fuseBatch(items: readonly FusionItem[], patchEmbedder: PatchEmbedder): TokenSequence[] {
    return fuseItems(items, (t, l) => this.fuse(t, l, patchEmbedder));
  }
}

/** No fusion (the paper's "wo_VAE feature" ablation): the Q-Former tokens pass unchanged. */
export class NoFusion implements FeatureFusion {
  readonly type = 'none' as const;

  fuse(queryTokens: TokenSequence, referenceLatents: Latents, _patchEmbedder: PatchEmbedder): TokenSequence {
    checkFuseInputs('NoFusion.fuse', queryTokens, referenceLatents);
    // A clone shares the data but gives the caller its own tensor to dispose, as FFM's output does.
    return tf.clone(queryTokens);
  }

  fuseBatch(items: readonly FusionItem[], patchEmbedder: PatchEmbedder): TokenSequence[] {
    return fuseItems(items, (t, l) => this.fuse(t, l, patchEmbedder));
  }
}

/** The fusion a config names; a new FFM is initialised as MIGE does (wrap in nn.withoutInit to skip). */
export function createFusion(config: FusionConfig): FeatureFusion {
  switch (config.type) {
    case 'ffm':
      return new FfmFusion(new FFM(config.ffm));
    case 'none':
      return new NoFusion();
    default: {
      const bad: never = config;
      throw new MigeInputError(`unknown fusion type ${JSON.stringify((bad as { type?: unknown }).type)}`, 'createFusion');
    }
  }
}
