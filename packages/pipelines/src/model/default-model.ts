import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { getBackendInfo, initBackend, MigeInputError } from '@mige/core';
import { packageRoot } from './assets.js';
import { loadModel } from './checkpoint.js';
import type { MigeModel } from './mige-model.js';

/** The default model's name and the package that ships it (an optional peer of this one). */
export const DEFAULT_MODEL_NAME = 'mige-world';
export const DEFAULT_MODEL_PACKAGE = '@mige/model-world';

/** What to do when the default model is missing. */
const INSTALL_DEFAULT = `install it with "npm install ${DEFAULT_MODEL_PACKAGE}", or pass a model folder or preset`;

/** The default model's folder (the @mige/model-world package's own folder), or undefined when it is not installed. */
export function findDefaultModelDir(): string | undefined {
  try {
    // Resolved from this package, as Node resolves its own dependencies (hoisted or not).
    const require = createRequire(join(packageRoot(), 'package.json'));
    const dir = dirname(require.resolve(`${DEFAULT_MODEL_PACKAGE}/package.json`));
    return existsSync(join(dir, 'config.json')) ? dir : undefined;
  } catch {
    return undefined;
  }
}

/** The default model's folder; a MigeInputError saying how to install it when it is not installed. */
export function defaultModelDir(): string {
  const dir = findDefaultModelDir();
  if (dir === undefined) throw new MigeInputError(`the default model (${DEFAULT_MODEL_NAME}) is not installed: ${INSTALL_DEFAULT}`, DEFAULT_MODEL_PACKAGE);
  return dir;
}

/** Whether the default model's package is installed. */
export function hasDefaultModel(): boolean {
  return findDefaultModelDir() !== undefined;
}

/** Loads the default model, mige-world (see its MODEL_CARD.md), starting a backend first if none is. */
export async function loadDefaultModel(): Promise<MigeModel> {
  const dir = defaultModelDir();
  if (getBackendInfo() === undefined) await initBackend();
  return loadModel(dir);
}
