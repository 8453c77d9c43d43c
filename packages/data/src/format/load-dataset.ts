import { dirname } from 'node:path';
import { MigeInputError } from '@mige/core';
import { parseMigeRecord } from './parse-record.js';
import { readEntries, type ReadOptions } from './read-dataset.js';
import { describePosition, type DatasetEntry, type InvalidRecord, type MigeRecord, type RecordPosition } from './types.js';
import { checkRecord, realRoot, type ResolvedRecord, type ValidateOptions } from './validate.js';

export interface LoadOptions extends ValidateOptions, ReadOptions {
  /** Directory the record paths are relative to; defaults to the dataset file's directory. */
  root?: string;
  /** Skip bad records (reported in `skipped`) instead of throwing. Default false. */
  skipInvalid?: boolean;
  /** Records checked at once (decoding is async); output order is kept. Default 4. */
  concurrency?: number;
}

export type ValidatedEntry =
  | ({ ok: true; resolved: ResolvedRecord } & RecordPosition)
  | ({ ok: false; reason: string } & RecordPosition);

export interface LoadedDataset {
  records: ResolvedRecord[];
  /** Every record left out, with its index (JSONL: line) and why; empty unless skipInvalid. */
  skipped: InvalidRecord[];
}

/** Streams a dataset (JSON array or JSONL), checking each record as it goes. */
export async function* iterateDataset(path: string, opts: LoadOptions = {}): AsyncGenerator<ValidatedEntry> {
  const root = opts.root ?? dirname(path);
  const rootReal = await realRoot(root);
  const concurrency = opts.concurrency ?? 4;
  if (!Number.isSafeInteger(concurrency) || concurrency < 1) {
    throw new MigeInputError(`concurrency must be a positive integer, got ${concurrency}`, path);
  }
  // A bounded in-order window: memory stays flat on large JSONL sets while decodes overlap.
  const window: Promise<ValidatedEntry>[] = [];
  for await (const entry of readEntries(path, parseMigeRecord, opts.maxLineBytes !== undefined ? { maxLineBytes: opts.maxLineBytes } : {})) {
    window.push(validateEntry(entry, root, rootReal, opts));
    if (window.length >= concurrency) yield await (window.shift() as Promise<ValidatedEntry>);
  }
  while (window.length > 0) yield await (window.shift() as Promise<ValidatedEntry>);
}

/** Never rejects (a rejected promise waiting in the window would be unhandled): errors become reasons. */
async function validateEntry(entry: DatasetEntry<MigeRecord>, root: string, rootReal: string, opts: ValidateOptions): Promise<ValidatedEntry> {
  const pos: RecordPosition = entry.line !== undefined ? { index: entry.index, line: entry.line } : { index: entry.index };
  if (!entry.ok) return { ok: false, ...pos, reason: entry.reason };
  try {
    const check = await checkRecord(entry.record, root, rootReal, opts);
    return check.ok ? { ok: true, ...pos, resolved: check.resolved } : { ok: false, ...pos, reason: check.reasons.join('; ') };
  } catch (err) {
    return { ok: false, ...pos, reason: err instanceof Error ? err.message : String(err) };
  }
}

/**
 * Reads and validates a whole dataset. Without skipInvalid, any bad record makes it throw one
 * MigeInputError that lists every bad record, so all of them can be fixed at once.
 */
export async function loadDataset(path: string, opts: LoadOptions = {}): Promise<LoadedDataset> {
  const records: ResolvedRecord[] = [];
  const skipped: InvalidRecord[] = [];
  for await (const entry of iterateDataset(path, opts)) {
    if (entry.ok) records.push(entry.resolved);
    else skipped.push(entry.line !== undefined ? { index: entry.index, line: entry.line, reason: entry.reason } : { index: entry.index, reason: entry.reason });
  }
  if (skipped.length > 0 && !opts.skipInvalid) {
    const list = skipped.map((s) => `  ${describePosition(s)}: ${s.reason}`).join('\n');
    throw new MigeInputError(`${skipped.length} invalid record(s):\n${list}`, path);
  }
  return { records, skipped };
}

/** One line per skipped record, for logs: "skipped 2 of 10 records: line 3: ...". */
export function summarizeSkipped(loaded: LoadedDataset): string {
  const total = loaded.records.length + loaded.skipped.length;
  const lines = loaded.skipped.map((s) => `${describePosition(s)}: ${s.reason}`);
  return [`skipped ${loaded.skipped.length} of ${total} records`, ...lines].join('\n');
}
