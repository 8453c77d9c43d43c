import { MigeInputError } from '@mige/core';
import type { Prediction } from '../diffusion/index.js';
import { validateBackboneConfig, type BackboneConfig } from './backbones.js';
import { MIGE_TINY as MIGE_TINY_DIT, MIGE_XL_2 } from '@mige/dit';
import { EVA_VIT_TINY, MIGE_ENCODER, QFORMER_TINY, T5_TINY, type MigeEncoderConfig } from '@mige/encoder';
import { FFM_MIGE, validateFfmConfig, type FusionConfig } from '@mige/fusion';
import { downsampleFactor, SD_VAE_FT_EMA, SD_VAE_TINY, validateVaeConfig, type AutoencoderKLConfig } from '@mige/vae';
import { checkConfigBounds } from './config-bounds.js';

/** The whole MIGE model's sizes: plain data, as saved in a model folder's config.json. */
export interface MigeConfig {
  name: string;
  /** Image side in pixels the model works at (reference 512); latents are imageSize / vae downsample. */
  imageSize: number;
  encoder: MigeEncoderConfig;
  fusion: FusionConfig;
  /** A DiT (@mige/dit) or a backbone type added with registerBackbone; its `inputSize` is the latent side. */
  backbone: BackboneConfig;
  vae: AutoencoderKLConfig;
  /** Parameter-name prefixes that never train (reference: ['visual_encoder.']). */
  frozen: string[];
  /** What the backbone predicts: 'epsilon' (MIGE; the default when absent) or 'v'. */
  prediction?: Prediction;
}

/** MIGE as released: EVA ViT-g + BLIP-2 Q-Former + T5-XXL, FFM, PixArt-α XL/2 at 512 px, sd-vae-ft-ema. */
export const MIGE_XL: Readonly<MigeConfig> = Object.freeze({
  name: 'mige-xl',
  imageSize: 512,
  encoder: MIGE_ENCODER,
  fusion: Object.freeze({ type: 'ffm' as const, ffm: FFM_MIGE }),
  backbone: MIGE_XL_2,
  vae: SD_VAE_FT_EMA,
  frozen: ['visual_encoder.'],
});

/**
 * A few-hundred-thousand-parameter MIGE for tests and demos on CPU: 32 px images, the tiny VAE
 * (2× down → 16×16 latents, 64 patches), the fixtures' tiny ViT / Q-Former / T5 (vocab 2100,
 * the shipped tokenizer's), L = 32, and a 2-block DiT 64 wide.
 */
export const MIGE_TINY: Readonly<MigeConfig> = Object.freeze({
  name: 'mige-tiny',
  imageSize: 32,
  encoder: Object.freeze({ vision: EVA_VIT_TINY, qformer: QFORMER_TINY, t5: T5_TINY, maxLength: 32, maxImages: 4 }),
  fusion: Object.freeze({
    type: 'ffm' as const,
    ffm: Object.freeze({ embedDim: QFORMER_TINY.hiddenSize, numHeads: 4, kvDim: QFORMER_TINY.hiddenSize, vaeDim: 64, eps: 1e-6 }),
  }),
  // The dit fixture's DiT (hidden 64, 2 blocks, 4 heads) on 16×16 latents, reading the tiny T5's output.
  backbone: Object.freeze({ ...MIGE_TINY_DIT, inputSize: 16, captionChannels: T5_TINY.dModel, modelMaxLength: 32 }),
  vae: Object.freeze({ ...SD_VAE_TINY, sampleSize: 32 }),
  frozen: ['visual_encoder.'],
});

export const MIGE_PRESETS = Object.freeze({ 'mige-xl': MIGE_XL, 'mige-tiny': MIGE_TINY });
export type MigePresetName = keyof typeof MIGE_PRESETS;

/**
 * Whether `name` is a preset: an own key of MIGE_PRESETS, so `constructor`, `toString` or
 * `__proto__` (which `in` finds on every object) are not presets but folder names.
 */
export function isMigePresetName(name: string): name is MigePresetName {
  return Object.hasOwn(MIGE_PRESETS, name);
}

/** Latent side: imageSize / the VAE's downsample factor. */
export function latentSizeOf(c: Readonly<MigeConfig>): number {
  return c.imageSize / downsampleFactor(c.vae);
}

/**
 * Checks each component's config, then that they fit together (widths passed between them,
 * the condition length, latent channels and size). Each mismatch is a MigeInputError naming
 * both fields and their values.
 */
export function validateMigeConfig(c: Readonly<MigeConfig>, where = 'MigeConfig'): void {
  const fail = (message: string): never => {
    throw new MigeInputError(message, where);
  };
  if (typeof c.name !== 'string' || c.name.length === 0) fail('name must be a non-empty string');
  if (!Number.isInteger(c.imageSize) || c.imageSize <= 0) fail(`imageSize must be a positive integer, got ${c.imageSize}`);
  if (!Array.isArray(c.frozen) || c.frozen.some((p) => typeof p !== 'string' || p.length === 0)) fail('frozen must be a list of non-empty name prefixes');
  // Every dimension and the products that decide memory, before the components' own rules.
  checkConfigBounds(c, where);
  // Component validators name the field; the prefix says which component it belongs to.
  const inner = (part: string, check: () => void): void => {
    try {
      check();
    } catch (e) {
      // Drop the component's own `where` ("DitConfig: …"): the part name replaces it.
      if (e instanceof MigeInputError) fail(`${part}: ${e.where && e.message.startsWith(`${e.where}: `) ? e.message.slice(e.where.length + 2) : e.message}`);
      throw e;
    }
  };
  inner('backbone', () => validateBackboneConfig(c.backbone));
  inner('vae', () => validateVaeConfig(c.vae));
  if (c.fusion.type === 'ffm') {
    const { ffm } = c.fusion;
    inner('fusion.ffm', () => validateFfmConfig(ffm));
  } else if (c.fusion.type !== 'none') fail(`fusion.type ${JSON.stringify((c.fusion as { type?: unknown }).type)} is not 'ffm' or 'none'`);
  const e = c.encoder;
  for (const [k, v] of Object.entries({ maxLength: e.maxLength, maxImages: e.maxImages })) {
    if (!Number.isInteger(v) || v <= 0) fail(`encoder.${k} must be a positive integer, got ${v}`);
  }

  const same = (a: string, av: number, b: string, bv: number, why: string): void => {
    if (av !== bv) fail(`${a} (${av}) must equal ${b} (${bv}): ${why}`);
  };
  same('encoder.vision.embedDim', e.vision.embedDim, 'encoder.qformer.encoderWidth', e.qformer.encoderWidth, 'the Q-Former cross-attends to the ViT tokens');
  same('encoder.t5.dModel', e.t5.dModel, 'backbone.captionChannels', c.backbone.captionChannels, 'y is the T5 output');
  same('encoder.maxLength', e.maxLength, 'backbone.modelMaxLength', c.backbone.modelMaxLength, 'y has maxLength tokens');
  same('vae.latentChannels', c.vae.latentChannels, 'backbone.inChannels', c.backbone.inChannels, 'the backbone denoises VAE latents');
  if (c.fusion.type === 'ffm') {
    const { ffm } = c.fusion;
    same('fusion.ffm.vaeDim', ffm.vaeDim, 'backbone.hiddenSize', c.backbone.hiddenSize, "FFM takes the backbone's patch-embedder tokens");
    same('fusion.ffm.embedDim', ffm.embedDim, 'encoder.qformer.hiddenSize', e.qformer.hiddenSize, 'FFM adds its output to the Q-Former tokens');
  }
  const f = downsampleFactor(c.vae);
  if (c.imageSize % f !== 0) fail(`imageSize (${c.imageSize}) must be a multiple of the VAE downsample factor (${f}, from vae.blockOutChannels)`);
  if (c.imageSize / f !== c.backbone.inputSize) {
    fail(`imageSize (${c.imageSize}) / the VAE downsample factor (${f}) = ${c.imageSize / f} must equal backbone.inputSize (${c.backbone.inputSize}): the latent side`);
  }
}
