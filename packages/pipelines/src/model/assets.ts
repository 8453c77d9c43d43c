import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MigeInputError } from '@mige/core';
import { T5Tokenizer } from '@mige/encoder';

const PACKAGE_NAME = '@mige/pipelines';

/**
 * This module's folder: import.meta.url in ESM (src and dist/index.js); the CJS bundle has an
 * empty import.meta and a real __dirname. import.meta comes first because some hosts (node -e)
 * define a global __dirname that is not this module's.
 */
function moduleDir(): string {
  const url = (import.meta as { url?: unknown }).url;
  if (typeof url === 'string' && url.startsWith('file:')) return dirname(fileURLToPath(url));
  return __dirname;
}

/**
 * The package root: the nearest folder upwards holding this package's package.json. The code
 * runs from src/model/ (tsx, vitest) or from dist/ (the bundles), at different depths.
 */
export function packageRoot(from = moduleDir()): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        if ((JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown }).name === PACKAGE_NAME) return dir;
      } catch {
        // Not this package's manifest; keep walking up.
      }
    }
    if (dirname(dir) === dir) throw new MigeInputError(`no package.json named ${PACKAGE_NAME} above this module`, from);
  }
}

/** The 2100-token T5-style tokenizer shipped for mige-tiny (the fixtures' t5_tokenizer). */
export function tinyTokenizerPath(): string {
  return join(packageRoot(), 'assets', 'tokenizer-tiny.json');
}

let tiny: T5Tokenizer | undefined;

/** The shipped tiny tokenizer, parsed once per process (tokenizers are immutable). */
export function tinyTokenizer(): T5Tokenizer {
  tiny ??= T5Tokenizer.fromTokenizerJson(tinyTokenizerPath());
  return tiny;
}
