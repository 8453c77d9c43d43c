import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { MigeInputError } from '@mige/core';
import { packageRoot } from './assets.js';
import { loadModel } from './checkpoint.js';
import type { MigeModel } from './mige-model.js';

/** Where the package ships its default model: MIGE at small size, trained on the synthetic world. */
export function defaultModelDir(): string {
  return join(packageRoot(), 'models', 'mige-world');
}

/** Whether this install has the default model's files. */
export function hasDefaultModel(): boolean {
  return existsSync(join(defaultModelDir(), 'config.json'));
}

/** Loads the shipped default model (see its MODEL_CARD.md). */
export async function loadDefaultModel(): Promise<MigeModel> {
  const dir = defaultModelDir();
  if (!hasDefaultModel()) throw new MigeInputError('the default model is not in this install; pass a model folder or preset', dir);
  return loadModel(dir);
}
