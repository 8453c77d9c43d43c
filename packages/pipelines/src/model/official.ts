import { existsSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { MigeInputError, nn, PthReader, SafetensorsReader, tf } from '@mige/core';
import { ditKeysOfMigeCheckpoint, fromDiffusersPixArt } from '@mige/dit';
import { openT5Checkpoint, qformerCheckpointReader } from '@mige/encoder';
import { openVaeCheckpoint, type AutoencoderKLConfig, type VaeCheckpoint } from '@mige/vae';
import { isDitConfig } from './backbones.js';
import { describeWeightProblems, listNames, readTokenizer } from './checkpoint.js';
import type { MigeConfig } from './config.js';
import { MigeModel, T5_TIED_ALIAS } from './mige-model.js';
import { streamWeights, type ModelWeights } from './weights.js';

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

/** One checkpoint piece opened for reading, in MIGE's official names (before MigeModel's own renames). */
interface Piece {
  where: string;
  reader: nn.TensorReader;
  close(): void;
}

/** Only the keys `keep` maps (undefined: not this piece's), so a bigger checkpoint gives just its part. */
function only(source: Source, keep: (k: string) => string | undefined): nn.TensorReader {
  return nn.renameKeys(source, keep);
}

/** A piece over one weights file: `view` turns the file's reader into official names. */
function filePiece(path: string, view: (reader: SafetensorsReader | PthReader) => nn.TensorReader): Piece {
  const reader = openWeights(path);
  try {
    return { where: path, reader: view(reader), close: () => reader.close() };
  } catch (error) {
    reader.close();
    throw error;
  }
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

function pixartPiece(model: MigeModel, path: string): Piece {
  if (statSync(path).isDirectory()) {
    const file = join(path, 'diffusion_pytorch_model.safetensors');
    const backbone = model.config.backbone;
    if (!isDitConfig(backbone)) throw new MigeInputError(`PixArt weights load into a DiT backbone, not a '${backbone.type}' one`, path);
    return filePiece(file, (reader) => widenPatchEmbedder(fromDiffusersPixArt(reader, backbone), model));
  }
  return filePiece(path, (reader) => widenPatchEmbedder(ditKeysOfMigeCheckpoint(reader), model));
}

function t5Piece(folder: string): Piece {
  const t5 = openT5Checkpoint(folder);
  return { where: folder, reader: only(t5.reader, (k) => `t5_model.${k}`), close: () => t5.close() };
}

/** LAVIS create_eva_vit_g builds 39 of the checkpoint's 40 blocks and loads non-strictly. */
function evaPiece(model: MigeModel, path: string): Piece {
  const depth = model.config.encoder.vision.depth;
  const unusedBlock = (k: string): boolean => {
    const m = /^blocks\.(\d+)\./.exec(k);
    return m !== null && Number(m[1]) >= depth;
  };
  return filePiece(path, (reader) => only(reader, (k) => (unusedBlock(k) ? undefined : `visual_encoder.${k}`)));
}

const BLIP2_PARTS = /^(visual_encoder\.|ln_vision\.|Qformer\.|query_tokens$)/;

function blip2Piece(path: string): Piece {
  return filePiece(path, (reader) => only(qformerCheckpointReader(reader).reader, (k) => (BLIP2_PARTS.test(k) ? k : undefined)));
}

/**
 * The pieces in load order: pixart, t5, eva, blip2, mige (the fine-tuned model last, so it
 * wins). Each is opened only when its turn comes (`open`), so a bad file fails fast and closed
 * pieces hold no file open.
 */
function pieces(sources: ConvertSources, model: MigeModel): (() => Piece)[] {
  const out: (() => Piece)[] = [];
  if (sources.pixart) out.push(() => pixartPiece(model, sources.pixart as string));
  if (sources.t5) out.push(() => t5Piece(sources.t5 as string));
  if (sources.eva) out.push(() => evaPiece(model, sources.eva as string));
  if (sources.blip2) out.push(() => blip2Piece(sources.blip2 as string));
  if (sources.mige) out.push(() => filePiece(sources.mige as string, (reader) => reader));
  return out;
}

/**
 * One piece against the model: problems inside it (unknown or misshapen tensors) throw naming
 * its file; returns its tensors under the model's names (the ones it provides).
 */
function planPiece(model: MigeModel, piece: Piece): nn.TensorReader {
  const { reader, report } = model.planLoad(piece.reader);
  if (report.unexpected.length + report.mismatched.length > 0) throw new MigeInputError(describeWeightProblems({ ...report, missing: [] }), piece.where);
  return reader;
}

/** The tensors no piece provides, as the error convertCheckpoint and the streamed conversion both give. */
function checkComplete(model: MigeModel, provided: Set<string>, hasVae: boolean): void {
  const missing = [...model.stateDict().keys()].filter((k) => k !== T5_TIED_ALIAS && !provided.has(k));
  if (!hasVae) missing.push('vae.* (every VAE tensor: give a diffusers VAE folder)');
  if (missing.length > 0) throw new MigeInputError(`no piece provides ${missing.length} tensor(s): ${listNames(missing)}`, 'convertCheckpoint');
}

/** sampleSize is informational in diffusers; every other field must match the model's config. */
function sameVae(a: Readonly<AutoencoderKLConfig>, b: Readonly<AutoencoderKLConfig>): boolean {
  const strip = (c: Readonly<AutoencoderKLConfig>) => JSON.stringify({ ...c, sampleSize: 0 }, Object.keys(c).sort());
  return strip(a) === strip(b);
}

/** The VAE folder opened, its config checked against the model's. */
function openVae(model: MigeModel, folder: string): VaeCheckpoint {
  const vae = openVaeCheckpoint(folder);
  if (!sameVae(vae.config, model.config.vae)) {
    vae.close();
    throw new MigeInputError(`the VAE config ${JSON.stringify(vae.config)} differs from the model's vae ${JSON.stringify(model.config.vae)}`, folder);
  }
  return vae;
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
    for (const open of pieces(sources, model)) {
      const piece = open();
      try {
        const reader = planPiece(model, piece);
        model.loadStateDict(reader, { strict: false, source: piece.where });
        for (const k of reader.keys()) provided.add(k);
      } finally {
        piece.close();
      }
    }
    checkComplete(model, provided, sources.vae !== undefined);
    const vae = openVae(model, sources.vae as string);
    try {
      model.vae.loadStateDict(vae.reader, { source: vae.file });
    } finally {
      vae.close();
    }
    return model;
  } catch (error) {
    model.dispose();
    throw error;
  }
}

/**
 * The same pieces as convertCheckpoint, opened as a weights source for the ONNX export instead of
 * loaded: a skeleton model (MigeModel.skeleton, buffers loaded) and weights read one tensor at a
 * time from the piece that provides each (the last one, as loading would leave it). Every check
 * convertCheckpoint makes is made first, reading no tensor. Close the weights when done.
 */
export function openCheckpointWeights(sources: ConvertSources): { skeleton: MigeModel; weights: ModelWeights } {
  const tokenizer = sources.tokenizer === undefined ? undefined : readTokenizer(sources.tokenizer);
  const skeleton = MigeModel.skeleton(sources.config, tokenizer);
  const opened: { close(): void }[] = [];
  const close = (): void => opened.forEach((p) => p.close());
  try {
    const owner = new Map<string, nn.TensorReader>();
    for (const open of pieces(sources, skeleton)) {
      const piece = open();
      opened.push(piece);
      const reader = planPiece(skeleton, piece);
      for (const k of reader.keys()) owner.set(k, reader);
    }
    checkComplete(skeleton, new Set(owner.keys()), sources.vae !== undefined);
    const vae = openVae(skeleton, sources.vae as string);
    opened.push(vae);
    const of = (k: string): nn.TensorReader => owner.get(k) ?? fail(k);
    const mige: nn.TensorReader = { keys: () => owner.keys(), info: (k) => of(k).info(k), read: (k) => of(k).read(k) };
    return { skeleton, weights: streamWeights(skeleton, mige, vae.reader, vae.file, close) };
  } catch (error) {
    close();
    throw error;
  }
}

function fail(name: string): never {
  throw new MigeInputError(`no piece provides ${name}`, 'openCheckpointWeights');
}
