import { dirname } from 'node:path';
import { MigeInputError } from '@mige/core';
import { parseBenchRecord } from './parse-record.js';
import { readEntries } from './read-dataset.js';
import { resolveInsideRoot } from './resolve-path.js';
import { describePosition, type BenchRecord, type BenchTask, type InvalidRecord } from './types.js';
import { realRoot } from './validate.js';

/** A bench case with its four paths resolved to real absolute paths inside the root. */
export interface ResolvedBenchRecord extends BenchRecord {
  index: number;
}

export interface BenchLoadOptions {
  root?: string;
  skipInvalid?: boolean;
  /** Task of records without a `task` field (one-task files). */
  task?: BenchTask;
}

/**
 * Reads a MIGEBench add/replace file (JSON array or JSONL of {task, entity, mask, source,
 * target, instruction}) and checks every path exists inside the root and the instruction is
 * not empty. Images are decoded later, by the benchmark, at its own size.
 */
export async function loadBench(path: string, opts: BenchLoadOptions = {}): Promise<{ records: ResolvedBenchRecord[]; skipped: InvalidRecord[] }> {
  const root = opts.root ?? dirname(path);
  const rootReal = await realRoot(root);
  const records: ResolvedBenchRecord[] = [];
  const skipped: InvalidRecord[] = [];
  for await (const entry of readEntries(path, (v) => parseBenchRecord(v, opts.task))) {
    const pos = entry.line !== undefined ? { index: entry.index, line: entry.line } : { index: entry.index };
    if (!entry.ok) {
      skipped.push({ ...pos, reason: entry.reason });
      continue;
    }
    const r = entry.record;
    const reasons: string[] = [];
    if (r.instruction.trim() === '') reasons.push('instruction is empty');
    const out: ResolvedBenchRecord = { ...r, index: entry.index };
    for (const field of ['entity', 'mask', 'source', 'target'] as const) {
      const p = await resolveInsideRoot(root, rootReal, r[field], field);
      if (p.ok) out[field] = p.path;
      else reasons.push(p.reason);
    }
    if (reasons.length) skipped.push({ ...pos, reason: reasons.join('; ') });
    else records.push(out);
  }
  if (skipped.length > 0 && !opts.skipInvalid) {
    const list = skipped.map((s) => `  ${describePosition(s)}: ${s.reason}`).join('\n');
    throw new MigeInputError(`${skipped.length} invalid bench record(s):\n${list}`, path);
  }
  return { records, skipped };
}
