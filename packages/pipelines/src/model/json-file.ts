import { readFileSync, statSync } from 'node:fs';
import { fileSystemError, MigeInputError } from '@mige/core';

/** A config.json is a few KB; a T5 tokenizer.json 2.4 MB. Anything far bigger is not one. */
export const MAX_CONFIG_BYTES = 1024 * 1024;
export const MAX_TOKENIZER_BYTES = 64 * 1024 * 1024;

/** A regular file of at most `maxBytes`, or a MigeInputError saying what it is instead (`missing`: the not-found message). */
export function checkFile(path: string, what: string, maxBytes: number, missing = what): void {
  let stat;
  try {
    stat = statSync(path);
  } catch (error) {
    const e = fileSystemError(error, path);
    throw (error as NodeJS.ErrnoException).code === 'ENOENT' ? new MigeInputError(`not found: ${missing}`, path) : e;
  }
  if (stat.isDirectory()) throw new MigeInputError(`is a folder, not a file: ${what}`, path);
  if (!stat.isFile()) throw new MigeInputError(`is not a regular file: ${what}`, path);
  if (stat.size > maxBytes) throw new MigeInputError(`is ${stat.size} bytes, over the ${maxBytes}-byte limit for ${what}`, path);
}

/** A small JSON file (config.json, sampling.json): checked, read and parsed, every failure one line. */
export function readJsonFile(path: string, what: string): unknown {
  checkFile(path, what, MAX_CONFIG_BYTES);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw fileSystemError(error, path, 'read');
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new MigeInputError(`is not valid JSON (${(error as Error).message})`, path);
  }
}
