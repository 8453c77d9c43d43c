import { MigeInputError } from '@mige/core';

/** Which block design a backbone uses; both share the embedders, the inputs and the outputs. */
export type BackboneType = 'pixart' | 'dit-adaln-zero';

/**
 * A diffusion transformer's hyper-parameters, named after the reference's constructor
 * arguments (PixArt's `input_size`, `patch_size`, ...). Plain data: presets are objects of this type.
 */
export interface DitConfig {
  type: BackboneType;
  /** Latent side length the position table is built for (64 latents for 512 px). */
  inputSize: number;
  patchSize: number;
  /** Latent channels (4). The patch embedder takes twice as many: noisy latent ‖ conditional input. */
  inChannels: number;
  hiddenSize: number;
  depth: number;
  numHeads: number;
  mlpRatio: number;
  /** Width of the condition tokens y (4096 for T5-XXL). */
  captionChannels: number;
  /** Tokens in the learned null caption; the longest y the model accepts. */
  modelMaxLength: number;
  /** Predict the IDDPM variance values too (PixArt's `pred_sigma`): 2·inChannels outputs. */
  learnSigma: boolean;
  /** PixArt's position-table scale (`lewei_scale`): 1 at 512 px. */
  leweiScale: number;
}

/** MIGE's DiT: PixArt-α XL/2 at 512 px with the conditional input on channels (`MIGE_XL_2`). */
export const MIGE_XL_2: Readonly<DitConfig> = Object.freeze({
  type: 'pixart',
  inputSize: 64,
  patchSize: 2,
  inChannels: 4,
  hiddenSize: 1152,
  depth: 28,
  numHeads: 16,
  mlpRatio: 4,
  captionChannels: 4096,
  modelMaxLength: 256,
  learnSigma: true,
  leweiScale: 1,
});

/** The `dit` golden fixture's size: 8×8 latents, hidden 64, 2 blocks, 4 heads, 32-wide captions. */
export const MIGE_TINY: Readonly<DitConfig> = Object.freeze({
  type: 'pixart',
  inputSize: 8,
  patchSize: 2,
  inChannels: 4,
  hiddenSize: 64,
  depth: 2,
  numHeads: 4,
  mlpRatio: 4,
  captionChannels: 32,
  modelMaxLength: 16,
  learnSigma: true,
  leweiScale: 1,
});

/** The facebookresearch/DiT-style backbone (adaLN-Zero blocks + cross-attention) at the tiny size. */
export const DIT_ADALN_ZERO_TINY: Readonly<DitConfig> = Object.freeze({ ...MIGE_TINY, type: 'dit-adaln-zero' });

/** Sizes every part of the model derives from the config. */
export interface DerivedSizes {
  /** Patch embedder input channels: noisy latent + conditional input. */
  embedChannels: number;
  outChannels: number;
  /** Patches per side at `inputSize`. */
  gridSize: number;
  numPatches: number;
  headDim: number;
  mlpHidden: number;
}

export function derivedSizes(c: DitConfig): DerivedSizes {
  const gridSize = c.inputSize / c.patchSize;
  return {
    embedChannels: 2 * c.inChannels,
    outChannels: c.learnSigma ? 2 * c.inChannels : c.inChannels,
    gridSize,
    numPatches: gridSize * gridSize,
    headDim: c.hiddenSize / c.numHeads,
    mlpHidden: Math.trunc(c.hiddenSize * c.mlpRatio),
  };
}

/** Throws a MigeInputError naming the first inconsistent field. */
export function validateConfig(c: DitConfig): void {
  const where = 'DitConfig';
  if (c.type !== 'pixart' && c.type !== 'dit-adaln-zero') {
    throw new MigeInputError(`type is ${JSON.stringify(c.type)}, expected 'pixart' or 'dit-adaln-zero'`, where);
  }
  const positive = ['inputSize', 'patchSize', 'inChannels', 'hiddenSize', 'depth', 'numHeads', 'captionChannels', 'modelMaxLength'] as const;
  for (const k of positive) {
    if (!Number.isInteger(c[k]) || c[k] <= 0) throw new MigeInputError(`${k} must be a positive integer, got ${c[k]}`, where);
  }
  if (!(c.mlpRatio > 0)) throw new MigeInputError(`mlpRatio must be positive, got ${c.mlpRatio}`, where);
  if (!(c.leweiScale > 0)) throw new MigeInputError(`leweiScale must be positive, got ${c.leweiScale}`, where);
  if (c.inputSize % c.patchSize !== 0) {
    throw new MigeInputError(`inputSize ${c.inputSize} is not divisible by patchSize ${c.patchSize}`, where);
  }
  if (c.hiddenSize % c.numHeads !== 0) {
    throw new MigeInputError(`hiddenSize ${c.hiddenSize} is not divisible by numHeads ${c.numHeads}`, where);
  }
  // The 2-D sin-cos table splits the width in four (sin/cos × row/column).
  if (c.hiddenSize % 4 !== 0) throw new MigeInputError(`hiddenSize ${c.hiddenSize} must be a multiple of 4`, where);
}
