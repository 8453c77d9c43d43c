import { MigeInputError } from '@mige/core';

/** The only block types SD-VAE-style AutoencoderKL models use. */
export type DownBlockType = 'DownEncoderBlock2D';
export type UpBlockType = 'UpDecoderBlock2D';

/**
 * AutoencoderKL hyper-parameters: diffusers' config.json fields in camelCase (`block_out_channels`
 * → `blockOutChannels`). Plain data: presets are objects of this type.
 */
export interface AutoencoderKLConfig {
  /** Image channels (3). */
  inChannels: number;
  outChannels: number;
  /** One entry per resolution; every block but the last halves the image size. */
  downBlockTypes: readonly DownBlockType[];
  upBlockTypes: readonly UpBlockType[];
  /** Channels per resolution, from the image side: [128, 256, 512, 512] for SD-VAE. */
  blockOutChannels: readonly number[];
  /** ResnetBlock2D per down block (the up blocks have one more). */
  layersPerBlock: number;
  actFn: 'silu';
  latentChannels: number;
  normNumGroups: number;
  /** Image size the model was trained at (informational). */
  sampleSize: number;
  /** Latents are multiplied by it before diffusion (0.18215 for SD-VAE). */
  scalingFactor: number;
  /** The 1×1 convs around the latent (absent in some newer VAEs). */
  useQuantConv: boolean;
  usePostQuantConv: boolean;
  /** Self-attention in both mid blocks. */
  midBlockAddAttention: boolean;
}

/** stabilityai/sd-vae-ft-ema, the VAE MIGE loads: 83.7M parameters, 8× downsampling, 4 latent channels. */
export const SD_VAE_FT_EMA: Readonly<AutoencoderKLConfig> = Object.freeze({
  inChannels: 3,
  outChannels: 3,
  downBlockTypes: Object.freeze(Array<DownBlockType>(4).fill('DownEncoderBlock2D')),
  upBlockTypes: Object.freeze(Array<UpBlockType>(4).fill('UpDecoderBlock2D')),
  blockOutChannels: Object.freeze([128, 256, 512, 512]),
  layersPerBlock: 2,
  actFn: 'silu',
  latentChannels: 4,
  normNumGroups: 32,
  sampleSize: 256,
  scalingFactor: 0.18215,
  useQuantConv: true,
  usePostQuantConv: true,
  midBlockAddAttention: true,
});

/** The `vae` golden fixture's size: the SD-VAE structure with 2 blocks of 32 and 64 channels, 2× downsampling. */
export const SD_VAE_TINY: Readonly<AutoencoderKLConfig> = Object.freeze({
  ...SD_VAE_FT_EMA,
  downBlockTypes: Object.freeze(Array<DownBlockType>(2).fill('DownEncoderBlock2D')),
  upBlockTypes: Object.freeze(Array<UpBlockType>(2).fill('UpDecoderBlock2D')),
  blockOutChannels: Object.freeze([32, 64]),
  layersPerBlock: 1,
  sampleSize: 16,
});

export const VAE_PRESETS = Object.freeze({ 'sd-vae-ft-ema': SD_VAE_FT_EMA, tiny: SD_VAE_TINY });
export type VaePresetName = keyof typeof VAE_PRESETS;

/** Image size / latent size: 2 per downsampling block (8 for SD-VAE). */
export function downsampleFactor(c: Readonly<AutoencoderKLConfig>): number {
  return 2 ** (c.blockOutChannels.length - 1);
}

/** Throws a MigeInputError naming the first inconsistent field (`where`: the config's origin). */
export function validateVaeConfig(
  c: Readonly<AutoencoderKLConfig>,
  where = 'AutoencoderKLConfig',
  /** How messages name a field: config.json errors use diffusers' snake_case names. */
  name: (field: keyof AutoencoderKLConfig) => string = (f) => f,
): void {
  const positive = ['inChannels', 'outChannels', 'layersPerBlock', 'latentChannels', 'normNumGroups', 'sampleSize'] as const;
  for (const k of positive) {
    if (!Number.isInteger(c[k]) || c[k] <= 0) throw new MigeInputError(`${name(k)} must be a positive integer, got ${c[k]}`, where);
  }
  const channels = name('blockOutChannels');
  const n = c.blockOutChannels.length;
  if (n === 0) throw new MigeInputError(`${channels} is empty`, where);
  for (const ch of c.blockOutChannels) {
    if (!Number.isInteger(ch) || ch <= 0) throw new MigeInputError(`${channels} holds ${ch}, expected positive integers`, where);
    if (ch % c.normNumGroups !== 0) {
      throw new MigeInputError(`${channels} entry ${ch} is not divisible by ${name('normNumGroups')} ${c.normNumGroups}`, where);
    }
  }
  const down = name('downBlockTypes'), up = name('upBlockTypes');
  if (c.downBlockTypes.length !== n || c.upBlockTypes.length !== n) {
    throw new MigeInputError(
      `${down} (${c.downBlockTypes.length}), ${up} (${c.upBlockTypes.length}) and ${channels} (${n}) must have the same length`,
      where,
    );
  }
  for (const t of c.downBlockTypes) {
    if (t !== 'DownEncoderBlock2D') throw new MigeInputError(`${down}: ${JSON.stringify(t)} is not supported (only DownEncoderBlock2D)`, where);
  }
  for (const t of c.upBlockTypes) {
    if (t !== 'UpDecoderBlock2D') throw new MigeInputError(`${up}: ${JSON.stringify(t)} is not supported (only UpDecoderBlock2D)`, where);
  }
  if (c.actFn !== 'silu') throw new MigeInputError(`${name('actFn')} ${JSON.stringify(c.actFn)} is not supported (only silu)`, where);
  if (!(Number.isFinite(c.scalingFactor) && c.scalingFactor > 0)) {
    throw new MigeInputError(`${name('scalingFactor')} must be a positive number, got ${c.scalingFactor}`, where);
  }
  for (const k of ['useQuantConv', 'usePostQuantConv', 'midBlockAddAttention'] as const) {
    if (typeof c[k] !== 'boolean') throw new MigeInputError(`${name(k)} must be true or false, got ${JSON.stringify(c[k])}`, where);
  }
}
