import { join } from 'node:path';
import { MigeInputError } from '@mige/core';
import { attachOnnx, DEFAULT_MODEL_NAME, detachOnnx, loadModel, MIGE_PRESETS, MigeModel, MODEL_ONNX_SUBFOLDER, modelOnnxDir, resolveModelSource } from '@mige/pipelines';

export interface WorkerModel {
  model: MigeModel;
  /** Where it came from, for the start-up line. */
  description: string;
  /** Releases its ONNX sessions (if any) and its weights. */
  release(): Promise<void>;
}

/**
 * `--model` as the mige flow commands take it: a model folder, mige-world (the default model, also
 * when absent) or a preset with random weights; a folder's ONNX export is attached unless engine is
 * tfjs.
 */
export async function loadWorkerModel(value: string | undefined, options: { initSeed?: number; engine?: 'tfjs' | 'onnx' } = {}): Promise<WorkerModel> {
  let model: MigeModel;
  let dir: string | undefined;
  let description: string;
  // As the mige flow commands resolve it: a folder, the default model's name, a preset.
  const source = resolveModelSource(value, process.cwd(), '--model');
  if (source.kind === 'preset') {
    model = MigeModel.create(MIGE_PRESETS[source.name], { seed: options.initSeed ?? 0 });
    description = `preset ${source.name} with random weights (seed ${options.initSeed ?? 0})`;
  } else {
    dir = source.dir;
    model = await loadModel(dir);
    description = value === undefined || value === '' || value === DEFAULT_MODEL_NAME ? `the default model (${model.config.name})` : `${model.config.name} from ${dir}`;
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
