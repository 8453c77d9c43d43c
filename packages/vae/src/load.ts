import { existsSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { MigeInputError, PthReader, SafetensorsReader, type nn } from '@mige/core';
import { AutoencoderKL, createAutoencoderKL } from './autoencoder-kl.js';
import type { AutoencoderKLConfig } from './config.js';
import { parseDiffusersVaeConfig } from './diffusers-config.js';
import { vaeCheckpointReader, type VaeKeyLayout } from './vae-keys.js';

export interface LoadVaeOptions {
  /** diffusers weight variant: `'fp16'` reads diffusion_pytorch_model.fp16.safetensors (or .bin). */
  variant?: string;
}

export interface VaeLoadReport extends nn.LoadReport {
  /** The file the weights came from. */
  file: string;
  /** The key layout found in it (see vae-keys.ts). */
  layout: VaeKeyLayout;
}

/**
 * Loads a diffusers AutoencoderKL folder: `config.json` plus `diffusion_pytorch_model.safetensors`
 * (preferred) or `diffusion_pytorch_model.bin` (a torch.save zip). The model is built without
 * random init and filled one tensor at a time from the file, in any layout vae-keys.ts maps.
 * Every problem (no folder, no or bad config.json, no weights, missing, unexpected or misshapen
 * tensors) is a MigeInputError naming the file.
 */
export function loadAutoencoderKL(folder: string, options: LoadVaeOptions = {}): AutoencoderKL {
  const checkpoint = openVaeCheckpoint(folder, options);
  try {
    const vae = createAutoencoderKL(checkpoint.config);
    try {
      vae.loadStateDict(checkpoint.reader, { source: checkpoint.file });
    } catch (error) {
      vae.dispose();
      throw error;
    }
    return vae;
  } finally {
    checkpoint.close();
  }
}

/** A diffusers VAE folder opened for reading: its config and a lazy reader in diffusers' current names. */
export interface VaeCheckpoint {
  config: AutoencoderKLConfig;
  reader: nn.TensorReader;
  /** The weights file the reader reads. */
  file: string;
  layout: VaeKeyLayout;
  close(): void;
}

/** Opens a diffusers AutoencoderKL folder (see loadAutoencoderKL) without reading any tensor yet. */
export function openVaeCheckpoint(folder: string, options: LoadVaeOptions = {}): VaeCheckpoint {
  if (!existsSync(folder)) throw new MigeInputError('no such folder', folder);
  if (!statSync(folder).isDirectory()) throw new MigeInputError('is not a folder (expected a diffusers VAE folder with config.json)', folder);
  const config = readVaeConfigFile(join(folder, 'config.json'));
  const file = findWeightsFile(folder, options.variant);
  const source = openWeightsFile(file);
  try {
    const { reader, layout } = vaeCheckpointReader(source, config.blockOutChannels.length);
    return { config, reader, file, layout, close: () => source.close() };
  } catch (error) {
    source.close();
    throw error;
  }
}

function openWeightsFile(file: string): SafetensorsReader | PthReader {
  if (!existsSync(file)) throw new MigeInputError('no such file', file);
  return extname(file) === '.safetensors' ? SafetensorsReader.open(file) : PthReader.open(file);
}

/** Reads and validates a diffusers AutoencoderKL config.json. */
export function readVaeConfigFile(path: string): AutoencoderKLConfig {
  if (!existsSync(path)) throw new MigeInputError('not found: a diffusers VAE folder needs a config.json', path);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new MigeInputError(`is not valid JSON (${(error as Error).message})`, path);
  }
  return parseDiffusersVaeConfig(json, path);
}

function findWeightsFile(folder: string, variant?: string): string {
  const stem = variant ? `diffusion_pytorch_model.${variant}` : 'diffusion_pytorch_model';
  const candidates = [`${stem}.safetensors`, `${stem}.bin`].map((f) => join(folder, f));
  const found = candidates.find((f) => existsSync(f));
  if (!found) throw new MigeInputError(`no weights: expected ${candidates.map((f) => f.slice(folder.length + 1)).join(' or ')}`, folder);
  return found;
}

/**
 * Loads one checkpoint file into `vae`: safetensors, or a torch.save zip (.bin, .pth, .ckpt, .pt),
 * with diffusers, pre-0.14 diffusers or LDM / Stable Diffusion key names. Strict by default:
 * throws naming every missing, unexpected and misshapen tensor and changes nothing.
 */
export function loadVaeWeights(vae: AutoencoderKL, file: string, options: { strict?: boolean } = {}): VaeLoadReport {
  const source = openWeightsFile(file);
  try {
    const { reader, layout } = vaeCheckpointReader(source, vae.config.blockOutChannels.length);
    const report = vae.loadStateDict(reader, { strict: options.strict ?? true, source: file });
    return { ...report, file, layout };
  } finally {
    source.close();
  }
}
