import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { MigeInputError } from '@mige/core';
import {
  attachOnnx,
  defaultModelDir,
  detachOnnx,
  hasDefaultModel,
  loadDefaultModel,
  loadModel,
  MIGE_PRESETS,
  MigeModel,
  MODEL_ONNX_SUBFOLDER,
  modelOnnxDir,
  type MigePresetName,
} from '@mige/pipelines';

export interface WorkerModel {
  model: MigeModel;
  /** Where it came from, for the start-up line. */
  description: string;
  /** Releases its ONNX sessions (if any) and its weights. */
  release(): Promise<void>;
}

/**
 * `--model` as the mige flow commands take it: a model folder, a preset with random weights, or
 * (absent) the shipped default model; a folder's ONNX export is attached unless engine is tfjs.
 */
export async function loadWorkerModel(value: string | undefined, options: { initSeed?: number; engine?: 'tfjs' | 'onnx' } = {}): Promise<WorkerModel> {
  let model: MigeModel;
  let dir: string | undefined;
  let description: string;
  if (value === undefined) {
    if (!hasDefaultModel()) throw new MigeInputError(`the default model is not in this install (${defaultModelDir()}): give --model <folder|preset>`, '--model');
    dir = defaultModelDir();
    model = await loadDefaultModel();
    description = `the default model (${model.config.name})`;
  } else if (Object.hasOwn(MIGE_PRESETS, value)) {
    model = MigeModel.create(MIGE_PRESETS[value as MigePresetName], { seed: options.initSeed ?? 0 });
    description = `preset ${value} with random weights (seed ${options.initSeed ?? 0})`;
  } else {
    dir = resolve(value);
    if (!existsSync(dir)) throw new MigeInputError(`no such folder, and not a preset (${Object.keys(MIGE_PRESETS).join(', ')})`, `--model ${value}`);
    model = await loadModel(dir);
    description = `${model.config.name} from ${dir}`;
  }
  const onnx = dir === undefined ? undefined : modelOnnxDir(dir);
  try {
    if (options.engine === 'onnx' && onnx === undefined) {
      throw new MigeInputError(`--engine onnx needs the model's ONNX export in ${MODEL_ONNX_SUBFOLDER}/ (mige export)`, dir ? join(dir, MODEL_ONNX_SUBFOLDER) : `preset ${value}`);
    }
    if (onnx !== undefined && options.engine !== 'tfjs') {
      await attachOnnx(model, onnx);
      description += ', on ONNX Runtime';
    }
  } catch (e) {
    model.dispose();
    throw e;
  }
  return {
    model,
    description,
    release: async () => {
      try {
        await detachOnnx(model);
      } finally {
        model.dispose();
      }
    },
  };
}
