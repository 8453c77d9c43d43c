import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { MigeInputError, nn, SafetensorsReader, tf, writeSafetensors, writableFromTensors, writeTextFileAtomic } from '@mige/core';
import { T5Tokenizer } from '@mige/encoder';
import { createFolderAtomic } from './atomic-files.js';
import { checkFile, MAX_TOKENIZER_BYTES, readJsonFile } from './json-file.js';
import { parseMigeConfig } from './config-json.js';
import type { MigeConfig } from './config.js';
import { MigeModel, T5_TIED_ALIAS } from './mige-model.js';
import { readSamplingFile, writeSamplingFile } from './sampling.js';
import { checkWeights, streamWeights, type ModelWeights } from './weights.js';

/**
 * The MIGE.js model folder: `config.json` ({ format, version, config }), `model.safetensors`
 * (MIGE's official names, plus the VAE under `vae.` + its diffusers names) and `tokenizer.json`;
 * optionally `sampling.json`, the model's own sampling defaults (see sampling.ts).
 */
export const MODEL_FORMAT = 'mige.js-model';
export const MODEL_FORMAT_VERSION = 1;
export const MODEL_FILES = Object.freeze({ config: 'config.json', weights: 'model.safetensors', tokenizer: 'tokenizer.json' });
export const VAE_PREFIX = 'vae.';

/** How many names an error lists before "… and N more". */
const LISTED = 5;

/** Every tensor of the folder's model.safetensors, by name (the tensors themselves); T5's tied embedding once. */
export function modelTensors(model: MigeModel): Map<string, tf.Tensor> {
  const all = model.stateDict();
  all.delete(T5_TIED_ALIAS);
  model.vae.stateDict(VAE_PREFIX, all);
  return all;
}

/** Writes (atomically) the folder's config.json, the counterpart of readModelConfig. */
export function writeModelConfig(dir: string, config: Readonly<MigeConfig>): void {
  const json = { format: MODEL_FORMAT, version: MODEL_FORMAT_VERSION, config };
  writeTextFileAtomic(join(dir, MODEL_FILES.config), `${JSON.stringify(json, null, 2)}\n`);
}

function writeFiles(model: MigeModel, dir: string): void {
  const tensors = writableFromTensors(modelTensors(model));
  writeSafetensors(join(dir, MODEL_FILES.weights), tensors, { format: MODEL_FORMAT, name: model.config.name });
  writeModelDescription(model, dir);
}

/**
 * A model folder's files other than its weights: tokenizer.json, sampling.json (when the model
 * has sampling defaults) and config.json, last: a folder whose config.json is new has all its
 * new files.
 */
export function writeModelDescription(model: MigeModel, dir: string): void {
  writeTextFileAtomic(join(dir, MODEL_FILES.tokenizer), JSON.stringify(model.tokenizer.json));
  writeSamplingFile(model, dir);
  writeModelConfig(dir, model.config);
}

/**
 * Saves `model` as a MIGE.js model folder. A new folder appears whole (written as a temp folder,
 * then renamed); in an existing folder each file is replaced atomically (temp file + rename).
 */
export function saveModel(model: MigeModel, dir: string): void {
  if (existsSync(dir)) {
    if (!statSync(dir).isDirectory()) throw new MigeInputError('exists and is not a folder', dir);
    writeFiles(model, dir);
    return;
  }
  mkdirSync(dirname(resolve(dir)), { recursive: true });
  createFolderAtomic(dir, (temp) => writeFiles(model, temp));
}

export interface LoadModelOptions {
  /** The model's config, for a bare .safetensors path (a folder has its own config.json). */
  config?: MigeConfig;
  /** For a bare .safetensors path: a tokenizer or a tokenizer.json / spiece.model path (default: the shipped tiny one, when it fits). */
  tokenizer?: T5Tokenizer | string;
}


/** A model folder's config.json → its MigeConfig (format, version and every field checked). */
export function readModelConfig(path: string): MigeConfig {
  const json = readJsonFile(path, 'a MIGE.js model folder needs a config.json');
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new MigeInputError('must hold a JSON object', path);
  const o = json as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!['format', 'version', 'config'].includes(k)) throw new MigeInputError(`${k} is not a known field`, path);
  if (o.format !== MODEL_FORMAT) throw new MigeInputError(`format is ${JSON.stringify(o.format)}, expected "${MODEL_FORMAT}"`, path);
  if (o.version !== MODEL_FORMAT_VERSION) throw new MigeInputError(`version ${JSON.stringify(o.version)} is not supported (expected ${MODEL_FORMAT_VERSION})`, path);
  return parseMigeConfig(o.config, path);
}

/** tokenizer.json or spiece.model. */
export function readTokenizer(path: string): T5Tokenizer {
  checkFile(path, 'the model needs its tokenizer (tokenizer.json or spiece.model)', MAX_TOKENIZER_BYTES);
  return path.endsWith('.model') ? T5Tokenizer.fromSentencePieceModel(path) : T5Tokenizer.fromTokenizerJson(path);
}

/** The first names of a list, then how many more. */
export function listNames(names: string[]): string {
  const more = names.length - LISTED;
  return names.slice(0, LISTED).join(', ') + (more > 0 ? ` … and ${more} more` : '');
}

/** A load report as one message: counts, the first names, and both shapes of each mismatch. */
export function describeWeightProblems(report: nn.LoadReport): string {
  const parts: string[] = [];
  if (report.missing.length > 0) parts.push(`${report.missing.length} tensor(s) missing: ${listNames(report.missing)}`);
  for (const m of report.mismatched.slice(0, LISTED)) parts.push(`tensor ${m.key} has shape [${m.actual}] but the model expects [${m.expected}]`);
  if (report.mismatched.length > LISTED) parts.push(`… and ${report.mismatched.length - LISTED} more misshapen tensors`);
  if (report.unexpected.length > 0) parts.push(`${report.unexpected.length} tensor(s) the model does not have: ${listNames(report.unexpected)}`);
  return parts.join('; ');
}

/** A model folder's one reader split into MIGE's tensors and the VAE's (`vae.*`, prefix removed). */
function splitModelReader(reader: nn.TensorReader): { mige: nn.TensorReader; vae: nn.TensorReader } {
  return {
    mige: nn.renameKeys(reader, (k) => (k.startsWith(VAE_PREFIX) ? undefined : k)),
    vae: nn.renameKeys(reader, (k) => (k.startsWith(VAE_PREFIX) ? k.slice(VAE_PREFIX.length) : undefined)),
  };
}

/** Fills a freshly built model (and its VAE, from `vae.*`) from one reader; throws on any problem, before changing anything. */
export function loadModelWeights(model: MigeModel, reader: nn.TensorReader, where: string): void {
  const { mige, vae } = splitModelReader(reader);
  const planned = checkWeights(model, mige, vae, where, VAE_PREFIX);
  model.loadStateDict(planned, { strict: false, source: where });
  model.vae.loadStateDict(vae, { strict: false, source: where });
}

/**
 * A MIGE.js model folder (or bare model.safetensors) as a weights source for the ONNX export,
 * without loading it: its config and tokenizer, a skeleton model (buffers loaded) and the
 * weights, read from the file one tensor at a time. Close the weights when done.
 */
export function openModelFolderWeights(path: string, options: LoadModelOptions = {}): { skeleton: MigeModel; weights: ModelWeights } {
  const { config, tokenizer, weights: file } = modelFolderFiles(path, options);
  const skeleton = MigeModel.skeleton(config, tokenizer);
  const reader = SafetensorsReader.open(file);
  const { mige, vae } = splitModelReader(reader);
  try {
    if (file !== path) readSamplingFile(skeleton, path);
  } catch (error) {
    reader.close();
    throw error;
  }
  return { skeleton, weights: streamWeights(skeleton, mige, vae, file, () => reader.close()) };
}

/** The config, tokenizer and weights file of a model folder, or of a bare .safetensors with options.config. */
function modelFolderFiles(path: string, options: LoadModelOptions): { config: MigeConfig; tokenizer: T5Tokenizer | undefined; weights: string } {
  if (!existsSync(path)) throw new MigeInputError('no such model folder or file', path);
  if (statSync(path).isDirectory()) {
    const weights = join(path, MODEL_FILES.weights);
    const config = readModelConfig(join(path, MODEL_FILES.config));
    const tokenizer = readTokenizer(join(path, MODEL_FILES.tokenizer));
    // A folder holding only its ONNX export (mige convert --onnx) runs through loadOnnxModel.
    const onnxOnly = existsSync(join(path, 'onnx', 'manifest.json')) ? ' (it holds only an ONNX export: load it with loadOnnxModel, as the flow commands do)' : '';
    checkFile(weights, `the model folder's ${MODEL_FILES.weights}`, Number.MAX_SAFE_INTEGER, `the model folder has no ${MODEL_FILES.weights}${onnxOnly}`);
    return { config, tokenizer, weights };
  }
  if (!options.config) throw new MigeInputError('a bare weights file needs options.config (or load the model folder)', path);
  return { config: options.config, tokenizer: typeof options.tokenizer === 'string' ? readTokenizer(options.tokenizer) : options.tokenizer, weights: path };
}

/**
 * Loads a MIGE.js model folder, or a bare model.safetensors with `options.config`. The model is
 * built without random init and filled from the file one tensor at a time; every problem is a
 * MigeInputError naming the file (missing tensors: the count and the first names; misshapen
 * ones: the name and both shapes).
 */
export function loadModel(path: string, options: LoadModelOptions = {}): MigeModel {
  const { config, tokenizer, weights } = modelFolderFiles(path, options);
  const reader = SafetensorsReader.open(weights);
  try {
    const model = MigeModel.build(config, tokenizer, false);
    try {
      loadModelWeights(model, reader, weights);
      if (weights !== path) readSamplingFile(model, path);
    } catch (error) {
      model.dispose();
      throw error;
    }
    return model;
  } finally {
    reader.close();
  }
}
