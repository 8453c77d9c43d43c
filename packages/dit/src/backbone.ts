import { tf, type BackboneInput, type BackboneOutput, type DiffusionBackbone, type Latents, type PatchEmbedder } from '@mige/core';
import { validateConfig, type DitConfig } from './config.js';
import type { ConditionalDiT, DitForwardOptions, DitOptions } from './conditional-dit.js';
import { AdaLnZeroDiT } from './dit-adaln-zero.js';
import { PixArtDiT } from './pixart.js';

/**
 * A DiT as core's DiffusionBackbone: what pipelines sample and train through. `module` is the
 * nn.Module tree (state dict, parameters); `forward` splits its output into ε and the learned-sigma half.
 */
export class DitBackbone<M extends ConditionalDiT = ConditionalDiT> implements DiffusionBackbone {
  readonly learnSigma: boolean;
  readonly captionChannels: number;
  readonly maxLength: number;
  readonly patchEmbedder: PatchEmbedder;

  constructor(readonly module: M) {
    this.learnSigma = module.config.learnSigma;
    this.captionChannels = module.config.captionChannels;
    this.maxLength = module.config.modelMaxLength;
    this.patchEmbedder = module.xEmbedder;
  }

  get config(): Readonly<DitConfig> {
    return this.module.config;
  }

  /** { x, cond, t, y [B, L, C], mask [B, L] } → ε [B, 4, h, w] and, with learnSigma, variance [B, 4, h, w]. */
  forward(input: BackboneInput, options: DitForwardOptions = {}): BackboneOutput {
    return tf.tidy(() => {
      const out = this.module.forward(input, options);
      if (!this.learnSigma) return { eps: out };
      const [eps, variance] = tf.split(out, 2, 1) as [Latents, Latents];
      return { eps, variance };
    });
  }

  /** The learned null caption `y_embedder.y_embedding` [maxLength, C]: a copy, the caller disposes it. */
  nullCondition(): tf.Tensor2D {
    return this.module.yEmbedder.nullCaption.clone();
  }
}

/**
 * Builds a backbone from plain config data, e.g. `createBackbone(MIGE_XL_2)` or
 * `createBackbone({ ...MIGE_TINY, type: 'dit-adaln-zero' })`. Inside `nn.withoutInit` the
 * parameters are zeros, ready for `backbone.module.loadStateDict(...)`.
 */
export function createBackbone(config: Readonly<DitConfig>, options: DitOptions = {}): DitBackbone {
  validateConfig(config);
  const module = config.type === 'pixart' ? new PixArtDiT(config, options) : new AdaLnZeroDiT(config, options);
  return new DitBackbone(module);
}
