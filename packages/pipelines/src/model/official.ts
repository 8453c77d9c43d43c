import { existsSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { MigeInputError, nn, PthReader, SafetensorsReader, tf } from '@mige/core';
import { ditKeysOfMigeCheckpoint, fromDiffusersPixArt } from '@mige/dit';
import { loadT5Encoder, qformerCheckpointReader, T5Tokenizer } from '@mige/encoder';
import { loadAutoencoderKL, type AutoencoderKLConfig } from '@mige/vae';
import { isDitConfig } from './backbones.js';
import { describeWeightProblems, listNames } from './checkpoint.js';
import type { MigeConfig } from './config.js';
import { MigeModel } from './mige-model.js';

/**
 * Foreign checkpoint layouts → a MigeModel, in this one file. The mappings themselves live with
 * their components (dit-keys, qformer-keys, t5-load, vae-keys); this file only routes pieces:
 *
 * - MIGE's `model.pth`: torch.save({'state_dict': sd, ...}) (or sd itself) in the official names.
 *   The tied `t5_model.encoder.embed_tokens.weight` and the Q-Former's text-path tensors are known
 *   to be unused and dropped (MigeModel.loadStateDict does it); anything else unknown is reported.
 * - PixArt-α: a diffusers transformer folder or a PixArt .pth; its x_embedder takes the latent
 *   only, so it is widened with zero weights for the conditional-input channels.
 * - T5: an HF folder; BLIP-2: a LAVIS (or HF) .pth; EVA ViT-g: eva_vit_g.pth; the VAE: a diffusers folder.
 */

type Source = nn.StateDict | nn.TensorReader;

function openWeights(path: string): SafetensorsReader | PthReader {
  if (!existsSync(path)) throw new MigeInputError('no such file', path);
  return extname(path) === '.safetensors' ? SafetensorsReader.open(path) : PthReader.open(path);
}

function withReader<T>(path: string, use: (reader: SafetensorsReader | PthReader) => T): T {
  const reader = openWeights(path);
  try {
    return use(reader);
  } finally {
    reader.close();
  }
}

/** Loads MIGE's official model.pth (state_dict nested or flat) into `model`; strict by default. */
export function loadOfficialCheckpoint(model: MigeModel, pthPath: string, options: { strict?: boolean } = {}): nn.LoadReport {
  return withReader(pthPath, (reader) => model.loadStateDict(reader, { strict: options.strict ?? true, source: pthPath }));
}

/** The pieces `convertCheckpoint` assembles a model from; later pieces overwrite earlier ones. */
export interface ConvertSources {
  config: MigeConfig;
  /** MIGE's model.pth (everything but the VAE). */
  mige?: string;
  /** PixArt-α: a diffusers PixArtTransformer2DModel folder, or a PixArt .pth / .safetensors. */
  pixart?: string;
  /** An HF T5 (encoder) folder. */
  t5?: string;
  /** A BLIP-2 checkpoint (LAVIS or HF names): ln_vision, Q-Former, query_tokens (and the ViT when it has one). */
  blip2?: string;
  /** EVA ViT-g weights (eva_vit_g.pth). */
  eva?: string;
  /** A diffusers AutoencoderKL folder (sd-vae-ft-ema). */
  vae?: string;
  /** tokenizer.json or spiece.model; default: the shipped tiny tokenizer when the T5 vocabulary fits it. */
  tokenizer?: string;
}

/**
 * Fills the model's tensors from one piece: problems inside the piece (unknown or misshapen
 * tensors) throw naming the piece's file; returns the official names it provided.
 */
function loadPiece(model: MigeModel, source: Source, where: string): Set<string> {
  const report = model.loadStateDict(source, { strict: false, source: where });
  if (report.unexpected.length + report.mismatched.length > 0) throw new MigeInputError(describeWeightProblems({ ...report, missing: [] }), where);
  const missing = new Set(report.missing);
  return new Set([...model.stateDict().keys()].filter((k) => !missing.has(k)));
}

/** Only the keys `keep` maps (undefined: not this piece's), so a bigger checkpoint gives just its part. */
function only(source: Source, keep: (k: string) => string | undefined): nn.TensorReader {
  return nn.renameKeys(source, keep);
}

/**
 * A PixArt-α reader whose `x_embedder.proj.weight` [H, C, p, p] is zero-padded to the model's
 * [H, C', p, p] (C' = 2C: the conditional input starts with no effect, as MIGE's training does).
 */
function widenPatchEmbedder(source: nn.TensorReader, model: MigeModel): nn.TensorReader {
  const key = 'x_embedder.proj.weight';
  const target = model.backbone.module.stateDict().get(key);
  const keys = [...source.keys()];
  if (!target || !keys.includes(key)) return source;
  const shape = [...source.info(key).shape];
  const [h, c, p, q] = shape as [number, number, number, number];
  const wide = target.shape[1] as number;
  if (shape.length !== 4 || c >= wide || h !== target.shape[0]) return source; // loading reports it
  const wideShape = [h, wide, p, q];
  return {
    keys: () => keys,
    info: (k) => (k === key ? { shape: wideShape } : source.info(k)),
    read: (k) => {
      if (k !== key) return source.read(k);
      const v = source.read(k);
      const data = (v instanceof tf.Tensor ? v.dataSync() : v.data) as Float32Array;
      const out = new Float32Array(h * wide * p * q);
      for (let o = 0; o < h; o++) out.set(data.subarray(o * c * p * q, (o + 1) * c * p * q), o * wide * p * q);
      return { dtype: 'float32', shape: wideShape, data: out };
    },
  };
}

function loadPixArt(model: MigeModel, path: string): Set<string> {
  if (statSync(path).isDirectory()) {
    const file = join(path, 'diffusion_pytorch_model.safetensors');
    const backbone = model.config.backbone;
    if (!isDitConfig(backbone)) throw new MigeInputError(`PixArt weights load into a DiT backbone, not a '${backbone.type}' one`, path);
    return withReader(file, (reader) => loadPiece(model, widenPatchEmbedder(fromDiffusersPixArt(reader, backbone), model), file));
  }
  return withReader(path, (reader) => loadPiece(model, widenPatchEmbedder(ditKeysOfMigeCheckpoint(reader), model), path));
}

function loadT5(model: MigeModel, folder: string): Set<string> {
  const t5 = loadT5Encoder(folder);
  try {
    return loadPiece(model, only(t5.stateDict(), (k) => `t5_model.${k}`), folder);
  } finally {
    t5.dispose();
  }
}

/** LAVIS create_eva_vit_g builds 39 of the checkpoint's 40 blocks and loads non-strictly. */
function loadEva(model: MigeModel, path: string): Set<string> {
  const depth = model.config.encoder.vision.depth;
  const unusedBlock = (k: string): boolean => {
    const m = /^blocks\.(\d+)\./.exec(k);
    return m !== null && Number(m[1]) >= depth;
  };
  return withReader(path, (reader) => loadPiece(model, only(reader, (k) => (unusedBlock(k) ? undefined : `visual_encoder.${k}`)), path));
}

const BLIP2_PARTS = /^(visual_encoder\.|ln_vision\.|Qformer\.|query_tokens$)/;

function loadBlip2(model: MigeModel, path: string): Set<string> {
  return withReader(path, (reader) => loadPiece(model, only(qformerCheckpointReader(reader).reader, (k) => (BLIP2_PARTS.test(k) ? k : undefined)), path));
}

/** sampleSize is informational in diffusers; every other field must match the model's config. */
function sameVae(a: Readonly<AutoencoderKLConfig>, b: Readonly<AutoencoderKLConfig>): boolean {
  const strip = (c: Readonly<AutoencoderKLConfig>) => JSON.stringify({ ...c, sampleSize: 0 }, Object.keys(c).sort());
  return strip(a) === strip(b);
}

function loadVae(model: MigeModel, folder: string): void {
  const vae = loadAutoencoderKL(folder);
  try {
    if (!sameVae(vae.config, model.config.vae)) {
      throw new MigeInputError(`the VAE config ${JSON.stringify(vae.config)} differs from the model's vae ${JSON.stringify(model.config.vae)}`, folder);
    }
    model.vae.loadStateDict(vae.stateDict(), { source: folder });
  } finally {
    vae.dispose();
  }
}

function readTokenizer(path: string): T5Tokenizer {
  return extname(path) === '.model' ? T5Tokenizer.fromSentencePieceModel(path) : T5Tokenizer.fromTokenizerJson(path);
}

/**
 * Builds one MigeModel from checkpoint pieces (`mige convert` then saves it with saveModel).
 * Pieces load in the order pixart, t5, eva, blip2, mige (the fine-tuned model last, so it
 * wins), then the VAE. Every tensor must come from some piece: the ones none provided are an
 * error listing the first names and the count.
 */
export function convertCheckpoint(sources: ConvertSources): MigeModel {
  const tokenizer = sources.tokenizer === undefined ? undefined : readTokenizer(sources.tokenizer);
  const model = MigeModel.build(sources.config, tokenizer, false);
  try {
    const provided = new Set<string>();
    const add = (names: Set<string>) => names.forEach((n) => provided.add(n));
    if (sources.pixart) add(loadPixArt(model, sources.pixart));
    if (sources.t5) add(loadT5(model, sources.t5));
    if (sources.eva) add(loadEva(model, sources.eva));
    if (sources.blip2) add(loadBlip2(model, sources.blip2));
    if (sources.mige) add(withReader(sources.mige, (reader) => loadPiece(model, reader, sources.mige as string)));
    const missing = [...model.stateDict().keys()].filter((k) => !provided.has(k));
    if (!sources.vae) missing.push('vae.* (every VAE tensor: give a diffusers VAE folder)');
    else loadVae(model, sources.vae);
    if (missing.length > 0) {
      throw new MigeInputError(`no piece provides ${missing.length} tensor(s): ${listNames(missing)}`, 'convertCheckpoint');
    }
    return model;
  } catch (error) {
    model.dispose();
    throw error;
  }
}
