import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { MigeInputError, nn, SafetensorsReader, syncDirectory, type LongOperationOptions } from '@mige/core';
import { MODEL_FILES, readModelConfig, readTokenizer, writeModelDescription } from '../model/checkpoint.js';
import { tempSibling } from '../model/atomic-files.js';
import { MigeModel } from '../model/mige-model.js';
import { readSamplingFile } from '../model/sampling.js';
import type { ModelWeights } from '../model/weights.js';
import { exportModelAsync, NULL_CAPTION_KEY, type ExportOnnxOptions } from './export-model.js';
import { readOnnxManifest, type OnnxManifest } from './manifest.js';
import { attachOnnx, MODEL_ONNX_SUBFOLDER, modelOnnxDir } from './model-onnx.js';
import type { OnnxSessionsOptions } from './sessions.js';

export type ConvertOnnxOptions = Omit<ExportOnnxOptions, 'weights'> & LongOperationOptions;

/**
 * Writes a new model folder that holds only its ONNX export (`mige convert --onnx`): config.json,
 * tokenizer.json, sampling.json when the model has one, and onnx/ (every component, weights in
 * external data files by default). The weights stream from `from.weights` one tensor at a time,
 * so a model of any size converts in the memory of its largest tensor. The folder is built
 * beside `out` and renamed into place at the end: a conversion that fails or is stopped
 * (`signal`) leaves nothing behind. Closes `from.weights`. Returns the export's manifest.
 */
export async function convertToOnnx(from: { skeleton: MigeModel; weights: ModelWeights }, out: string, options: ConvertOnnxOptions): Promise<OnnxManifest> {
  const temp = tempSibling(out);
  try {
    if (existsSync(out)) throw new MigeInputError('already exists: convert into a new folder', out);
    mkdirSync(dirname(resolve(out)), { recursive: true });
    mkdirSync(temp);
    const manifest = await exportModelAsync(from.skeleton, join(temp, MODEL_ONNX_SUBFOLDER), { externalData: true, ...options, weights: from.weights });
    writeModelDescription(from.skeleton, temp);
    renameSync(temp, out);
    syncDirectory(dirname(resolve(out)));
    return manifest;
  } finally {
    from.weights.close();
    rmSync(temp, { recursive: true, force: true });
  }
}

/**
 * Opens a model folder that holds only its ONNX export (convertToOnnx) for the flows: the model's
 * skeleton (config, tokenizer, the DiT's null caption, sampling defaults; no TF.js weights) with
 * the export attached. Sessions are staged by default (`residency: 'staged'`): each stage's
 * weights are loaded when it runs and released after, which is how official sizes fit in memory.
 */
export async function loadOnnxModel(dir: string, options: Omit<OnnxSessionsOptions, 'components'> = {}): Promise<MigeModel> {
  const onnx = modelOnnxDir(dir);
  if (onnx === undefined) throw new MigeInputError(`no ${MODEL_ONNX_SUBFOLDER}/ export with a manifest: not a converted model folder`, dir);
  const config = readModelConfig(join(dir, MODEL_FILES.config));
  const skeleton = MigeModel.skeleton(config, readTokenizer(join(dir, MODEL_FILES.tokenizer)));
  try {
    readSamplingFile(skeleton, dir);
    const manifest = readOnnxManifest(onnx);
    if (manifest.nullCaption !== undefined) loadNullCaption(skeleton, join(onnx, manifest.nullCaption));
    await attachOnnx(skeleton, onnx, { residency: 'staged', ...options });
    return skeleton;
  } catch (error) {
    skeleton.dispose();
    throw error;
  }
}

/** The DiT's learned null caption into the skeleton (its one buffer the flows read). */
function loadNullCaption(model: MigeModel, path: string): void {
  const reader = SafetensorsReader.open(path);
  try {
    const only = nn.renameKeys(reader, (k) => (k === NULL_CAPTION_KEY ? k : undefined));
    const report = model.loadStateDict(only, { strict: false, source: path });
    if (report.unexpected.length + report.mismatched.length > 0 || [...only.keys()].length !== 1) {
      throw new MigeInputError(`does not hold the null caption ${NULL_CAPTION_KEY} of this model's shape`, path);
    }
  } finally {
    reader.close();
  }
}
