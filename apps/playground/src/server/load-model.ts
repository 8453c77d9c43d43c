import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { DEFAULT_MODEL_NAME, DEFAULT_MODEL_PACKAGE, hasDefaultModel, isMigePresetName, loadDefaultModel, loadModel, MIGE_PRESETS, MigeModel } from '@mige/pipelines';

export interface LoadedModel {
  model: MigeModel;
  /** What `mige --model` takes for the same model; null for the shipped default. */
  cliArg: string | null;
  /** Says where the model came from, for the start-up line. */
  description: string;
}

/** A user-facing start-up problem: printed as one line, exit code 1. */
export class StartupError extends Error {}

/**
 * `--model` (or MIGE_MODEL): a preset name (random weights) or a model folder; neither: the
 * shipped default model.
 */
export async function loadPlaygroundModel(value: string | undefined): Promise<LoadedModel> {
  // 'mige-world' names the default model, as the CLI and each image's parameters call it.
  if (value === undefined || value === '' || value === DEFAULT_MODEL_NAME) {
    if (!hasDefaultModel()) {
      throw new StartupError(
        `the default model is not installed (npm install ${DEFAULT_MODEL_PACKAGE}): start with --model mige-tiny (random weights, for trying the UI) or --model <model folder> (see mige train / mige convert)`,
      );
    }
    const model = await loadDefaultModel();
    return { model, cliArg: null, description: `the default model (${model.config.name})` };
  }
  if (isMigePresetName(value)) {
    const model = MigeModel.create(MIGE_PRESETS[value], { seed: 0 });
    return { model, cliArg: value, description: `preset ${value} with random weights (outputs are noise-like)` };
  }
  const dir = resolve(value);
  if (!existsSync(dir)) throw new StartupError(`--model ${value}: no such folder, and not a preset (${Object.keys(MIGE_PRESETS).join(', ')})`);
  const model = await loadModel(dir);
  return { model, cliArg: dir, description: `${model.config.name} from ${dir}` };
}
