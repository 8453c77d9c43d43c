import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { MigeInputError } from '@mige/core';
import { isMigePresetName, MIGE_PRESETS, type MigePresetName } from './config.js';
import { DEFAULT_MODEL_NAME, defaultModelDir } from './default-model.js';

/** Where a model comes from: a preset (random weights) or a MIGE.js model folder. */
export type ModelSource = { kind: 'preset'; name: MigePresetName } | { kind: 'folder'; dir: string };

/**
 * What `--model` and MigePipeline.fromPretrained take, resolved: a folder that exists (relative
 * paths from `cwd`) wins, as diffusers lets a local folder shadow a hub name; then the default
 * model's name (mige-world, from @mige/model-world); then a preset name. Anything else is a
 * MigeInputError listing what would have been accepted.
 */
export function resolveModelSource(ref: string | undefined, cwd = process.cwd(), where = 'model'): ModelSource {
  if (ref === undefined || ref === '') return { kind: 'folder', dir: defaultModelDir() };
  const path = resolve(cwd, ref);
  if (existsSync(path)) {
    if (!statSync(path).isDirectory()) throw new MigeInputError('is a file; a model is a folder (config.json, model.safetensors, tokenizer.json)', ref);
    return { kind: 'folder', dir: path };
  }
  if (ref === DEFAULT_MODEL_NAME) return { kind: 'folder', dir: defaultModelDir() };
  if (isMigePresetName(ref)) return { kind: 'preset', name: ref };
  throw new MigeInputError(
    `${JSON.stringify(ref)} is not a model folder (${path} does not exist), the default model's name (${DEFAULT_MODEL_NAME}) or a preset (${Object.keys(MIGE_PRESETS).join(', ')})`,
    where,
  );
}
