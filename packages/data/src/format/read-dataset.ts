import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { MigeInputError } from '@mige/core';
import type { Parsed } from './parse-record.js';
import type { DatasetEntry } from './types.js';

/** Whole-array JSON files are read into memory; past this size use a JSONL manifest. */
const MAX_JSON_ARRAY_BYTES = 256 * 1024 * 1024;

/** A record is a few paths and an instruction: a JSONL line longer than this is not one. */
export const DEFAULT_MAX_LINE_BYTES = 1024 * 1024;

export interface ReadOptions {
  /** Longest JSONL line read, in bytes (default DEFAULT_MAX_LINE_BYTES); longer lines are bad records. */
  maxLineBytes?: number;
}

/** One line of a JSONL file: its text, or why it has none. */
type RawLine = { line: number; text: string } | { line: number; reason: string };

/** Big reads: a file of one huge line is mostly scanned for a newline, at memory speed. */
const READ_CHUNK_BYTES = 1024 * 1024;

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function decodeLine(parts: Buffer[], line: number): RawLine {
  let bytes = parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
  if (bytes.length > 0 && bytes[bytes.length - 1] === 0x0d) bytes = bytes.subarray(0, -1); // CRLF
  if (line === 1 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) bytes = bytes.subarray(3); // BOM
  try {
    return { line, text: utf8.decode(bytes) };
  } catch {
    return { line, reason: 'the line is not valid UTF-8' };
  }
}

/** How far past maxLineBytes an over-long line is skipped before the read gives up on the file. */
const SKIP_LIMIT = 16;

/**
 * The lines of a file, streamed in 1 MiB chunks: at most `maxLineBytes` of one line is ever
 * held, so a file of one 600 MB line costs a megabyte, not a crash (readline would keep growing
 * one string until V8's string limit kills the process). An over-long line is reported, with its
 * number, as soon as it passes the limit, and the rest of it is skipped; a line that goes on past
 * SKIP_LIMIT × maxLineBytes ends the read there (reading the rest could take minutes: nothing in
 * a dataset file is that long).
 */
async function* readLines(path: string, maxLineBytes: number): AsyncGenerator<RawLine> {
  let parts: Buffer[] = [];
  let length = 0;
  let tooLong = false;
  let line = 1;
  for await (const chunk of createReadStream(path, { highWaterMark: READ_CHUNK_BYTES }) as AsyncIterable<Buffer>) {
    let start = 0;
    for (;;) {
      const newline = chunk.indexOf(0x0a, start);
      const end = newline < 0 ? chunk.length : newline;
      if (!tooLong) {
        if (length + end - start > maxLineBytes) {
          tooLong = true;
          parts = [];
          yield { line, reason: `the line is over the limit of ${maxLineBytes} bytes (maxLineBytes): a record is a few paths and an instruction` };
        } else if (end > start) {
          parts.push(chunk.subarray(start, end));
          length += end - start;
        }
      }
      if (tooLong) {
        length += end - start;
        if (length > SKIP_LIMIT * maxLineBytes) {
          yield { line: line + 1, reason: `not read: line ${line} goes on past ${SKIP_LIMIT} × maxLineBytes, so the rest of the file was left unread` };
          return;
        }
      }
      if (newline < 0) break;
      if (!tooLong) yield decodeLine(parts, line);
      parts = [];
      length = 0;
      tooLong = false;
      line++;
      start = newline + 1;
    }
  }
  if (!tooLong && length > 0) yield decodeLine(parts, line);
}

export function isJsonl(path: string): boolean {
  return /\.(jsonl|ndjson)$/i.test(path);
}

function fsMessage(err: unknown): string {
  const code = (err as { code?: unknown }).code;
  if (code === 'ENOENT') return 'dataset file not found';
  return `cannot read dataset file: ${err instanceof Error ? err.message : String(err)}`;
}

/** Read errors (permission denied, an I/O error) mid-stream as one MigeInputError. */
async function* withFsErrors<T>(items: AsyncGenerator<T>, path: string): AsyncGenerator<T> {
  for (;;) {
    let next: IteratorResult<T>;
    try {
      next = await items.next();
    } catch (err) {
      throw err instanceof MigeInputError ? err : new MigeInputError(fsMessage(err), path);
    }
    if (next.done) return;
    yield next.value;
  }
}

/**
 * Streams a JSONL manifest line by line (memory stays flat on large sets, and no line is held
 * past `maxLineBytes`). Blank lines are skipped; a line that is too long, not UTF-8, not JSON or
 * not a record yields an error entry with its 1-based line number instead of stopping the read.
 */
export async function* readJsonlEntries<T>(path: string, parse: (v: unknown) => Parsed<T>, options: ReadOptions = {}): AsyncGenerator<DatasetEntry<T>> {
  const maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  if (!Number.isSafeInteger(maxLineBytes) || maxLineBytes < 1) throw new MigeInputError(`maxLineBytes must be a positive integer, got ${maxLineBytes}`, path);
  try {
    if (!(await stat(path)).isFile()) throw new MigeInputError('is not a regular file', path);
  } catch (err) {
    if (err instanceof MigeInputError) throw err;
    throw new MigeInputError(fsMessage(err), path);
  }
  let index = 0;
  for await (const raw of withFsErrors(readLines(path, maxLineBytes), path)) {
    const { line } = raw;
    if ('reason' in raw) {
      yield { ok: false, index: index++, line, reason: raw.reason };
      continue;
    }
    const text = raw.text;
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
export function readEntries<T>(path: string, parse: (v: unknown) => Parsed<T>, options: ReadOptions = {}): AsyncGenerator<DatasetEntry<T>> {
  return isJsonl(path) ? readJsonlEntries(path, parse, options) : readJsonArrayEntries(path, parse);
}
