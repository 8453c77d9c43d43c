import { MigeInputError } from '@mige/core';
import { validateVaeConfig, type AutoencoderKLConfig, type DownBlockType, type UpBlockType } from './config.js';

/** diffusers' AutoencoderKL config.json, as far as this package reads it. */
export interface DiffusersVaeConfig {
  _class_name?: string;
  in_channels?: number;
  out_channels?: number;
  down_block_types?: string[];
  up_block_types?: string[];
  block_out_channels?: number[];
  layers_per_block?: number;
  act_fn?: string;
  latent_channels?: number;
  norm_num_groups?: number;
  sample_size?: number | number[];
  scaling_factor?: number;
  shift_factor?: number | null;
  latents_mean?: number[] | null;
  latents_std?: number[] | null;
  force_upcast?: boolean;
  use_quant_conv?: boolean;
  use_post_quant_conv?: boolean;
  mid_block_add_attention?: boolean;
}

/** diffusers' AutoencoderKL defaults, used for fields a config.json leaves out (old ones lack scaling_factor). */
const DEFAULTS = {
  in_channels: 3,
  out_channels: 3,
  down_block_types: ['DownEncoderBlock2D'],
  up_block_types: ['UpDecoderBlock2D'],
  block_out_channels: [64],
  layers_per_block: 1,
  act_fn: 'silu',
  latent_channels: 4,
  norm_num_groups: 32,
  sample_size: 32,
  scaling_factor: 0.18215,
  use_quant_conv: true,
  use_post_quant_conv: true,
  mid_block_add_attention: true,
} as const;

type Json = Record<string, unknown>;

function field<T>(json: Json, key: keyof typeof DEFAULTS, ok: (v: unknown) => v is T, expected: string, where: string): T {
  const v = key in json ? json[key] : DEFAULTS[key];
  if (!ok(v)) throw new MigeInputError(`${key} must be ${expected}, got ${JSON.stringify(v)}`, where);
  return v;
}

const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isBool = (v: unknown): v is boolean => typeof v === 'boolean';
const isString = (v: unknown): v is string => typeof v === 'string';
const isNumbers = (v: unknown): v is number[] => Array.isArray(v) && v.every(isNumber);
const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every(isString);

/**
 * A diffusers AutoencoderKL config.json (already parsed) → AutoencoderKLConfig. Missing fields take
 * diffusers' defaults, `_`-prefixed and unknown fields are ignored as diffusers does, and settings
 * this implementation cannot honour (another class, a shift factor, per-channel latent statistics)
 * are errors rather than silently wrong latents. `where` (the file) prefixes every error.
 */
export function parseDiffusersVaeConfig(json: unknown, where = 'config.json'): AutoencoderKLConfig {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new MigeInputError('expected a JSON object', where);
  }
  const j = json as Json;
  if ('_class_name' in j && j._class_name !== 'AutoencoderKL') {
    throw new MigeInputError(`_class_name is ${JSON.stringify(j._class_name)}, expected "AutoencoderKL"`, where);
  }
  for (const key of ['shift_factor', 'latents_mean', 'latents_std'] as const) {
    if (j[key] !== undefined && j[key] !== null) {
      throw new MigeInputError(`${key} ${JSON.stringify(j[key])} is not supported: MIGE's VAE applies only scaling_factor`, where);
    }
  }
  const sample = j.sample_size ?? DEFAULTS.sample_size;
  // Some configs give [height, width]; the size is informational, so keep the height.
  const sampleSize = isNumbers(sample) ? sample[0] : sample;
  if (!isNumber(sampleSize)) throw new MigeInputError(`sample_size must be a number, got ${JSON.stringify(sample)}`, where);
  const config: AutoencoderKLConfig = {
    inChannels: field(j, 'in_channels', isNumber, 'a number', where),
    outChannels: field(j, 'out_channels', isNumber, 'a number', where),
    downBlockTypes: field(j, 'down_block_types', isStrings, 'an array of strings', where) as DownBlockType[],
    upBlockTypes: field(j, 'up_block_types', isStrings, 'an array of strings', where) as UpBlockType[],
    blockOutChannels: field(j, 'block_out_channels', isNumbers, 'an array of numbers', where),
    layersPerBlock: field(j, 'layers_per_block', isNumber, 'a number', where),
    actFn: field(j, 'act_fn', isString, 'a string', where) as 'silu',
    latentChannels: field(j, 'latent_channels', isNumber, 'a number', where),
    normNumGroups: field(j, 'norm_num_groups', isNumber, 'a number', where),
    sampleSize,
    scalingFactor: field(j, 'scaling_factor', isNumber, 'a number', where),
    useQuantConv: field(j, 'use_quant_conv', isBool, 'true or false', where),
    usePostQuantConv: field(j, 'use_post_quant_conv', isBool, 'true or false', where),
    midBlockAddAttention: field(j, 'mid_block_add_attention', isBool, 'true or false', where),
  };
  validateVaeConfig(config, where, snakeCase);
  return config;
}

/** blockOutChannels → block_out_channels: errors name the fields as config.json spells them. */
const snakeCase = (field: string): string => field.replace(/[A-Z]/g, (ch) => `_${ch.toLowerCase()}`);

/** The config.json diffusers writes for `config` (for saving a model in the diffusers layout). */
export function toDiffusersVaeConfig(c: Readonly<AutoencoderKLConfig>): DiffusersVaeConfig {
  return {
    _class_name: 'AutoencoderKL',
    in_channels: c.inChannels,
    out_channels: c.outChannels,
    down_block_types: [...c.downBlockTypes],
    up_block_types: [...c.upBlockTypes],
    block_out_channels: [...c.blockOutChannels],
    layers_per_block: c.layersPerBlock,
    act_fn: c.actFn,
    latent_channels: c.latentChannels,
    norm_num_groups: c.normNumGroups,
    sample_size: c.sampleSize,
    scaling_factor: c.scalingFactor,
    force_upcast: true,
    use_quant_conv: c.useQuantConv,
    use_post_quant_conv: c.usePostQuantConv,
    mid_block_add_attention: c.midBlockAddAttention,
  };
}
