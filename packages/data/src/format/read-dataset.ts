import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { MigeInputError } from '@mige/core';
import type { Parsed } from './parse-record.js';
import type { DatasetEntry } from './types.js';

/** Whole-array JSON files are read into memory; past this size use a JSONL manifest. */
const MAX_JSON_ARRAY_BYTES = 256 * 1024 * 1024;

export function isJsonl(path: string): boolean {
  return /\.(jsonl|ndjson)$/i.test(path);
}

function fsMessage(err: unknown): string {
  const code = (err as { code?: unknown }).code;
  if (code === 'ENOENT') return 'dataset file not found';
  return `cannot read dataset file: ${err instanceof Error ? err.message : String(err)}`;
}

/**
 * Streams a JSONL manifest line by line (readline, so memory stays flat on large sets). Blank
 * lines are skipped; a line that is not JSON or not a record yields an error entry with its
 * 1-based line number instead of stopping the read.
 */
export async function* readJsonlEntries<T>(path: string, parse: (v: unknown) => Parsed<T>): AsyncGenerator<DatasetEntry<T>> {
  try {
    if (!(await stat(path)).isFile()) throw new MigeInputError('is not a regular file', path);
  } catch (err) {
    if (err instanceof MigeInputError) throw err;
    throw new MigeInputError(fsMessage(err), path);
  }
  const lines = createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity });
  let line = 0;
  let index = 0;
  for await (const text of lines) {
    line++;
    if (text.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      yield { ok: false, index: index++, line, reason: `malformed JSON: ${(err as Error).message}` };
      continue;
    }
    const parsed = parse(value);
    yield parsed.ok ? { ok: true, index: index++, line, record: parsed.record } : { ok: false, index: index++, line, reason: parsed.reason };
  }
}

/** Reads a JSON array file; a file that is not a well-formed array is one MigeInputError. */
export async function* readJsonArrayEntries<T>(path: string, parse: (v: unknown) => Parsed<T>): AsyncGenerator<DatasetEntry<T>> {
  let text: string;
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new MigeInputError('is not a regular file', path);
    if (info.size > MAX_JSON_ARRAY_BYTES) {
      throw new MigeInputError(`JSON array file is ${info.size} bytes, over ${MAX_JSON_ARRAY_BYTES}; use a JSONL manifest`, path);
    }
    text = await readFile(path, 'utf8');
  } catch (err) {
    if (err instanceof MigeInputError) throw err;
    throw new MigeInputError(fsMessage(err), path);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new MigeInputError(`malformed JSON: ${(err as Error).message}`, path);
  }
  if (!Array.isArray(value)) throw new MigeInputError('a JSON dataset must be an array of records', path);
  for (let index = 0; index < value.length; index++) {
    const parsed = parse(value[index]);
    yield parsed.ok ? { ok: true, index, record: parsed.record } : { ok: false, index, reason: parsed.reason };
  }
}

/** Entries of a dataset file: JSONL (`.jsonl` / `.ndjson`) streamed, anything else as a JSON array. */
export function readEntries<T>(path: string, parse: (v: unknown) => Parsed<T>): AsyncGenerator<DatasetEntry<T>> {
  return isJsonl(path) ? readJsonlEntries(path, parse) : readJsonArrayEntries(path, parse);
}
