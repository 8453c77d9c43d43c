import { writeTextFileAtomic } from '@mige/core';
import { isJsonl } from './read-dataset.js';

/** Writes text so readers see the old file or the whole new one (core's temp file + fsync + rename). */
export async function writeTextAtomic(target: string, text: string): Promise<void> {
  writeTextFileAtomic(target, text);
  return Promise.resolve();
}

/**
 * Writes records as JSONL (one per line) when the path ends in .jsonl/.ndjson, else as a JSON
 * array like the reference's files. Atomic.
 */
export async function writeRecords<T>(path: string, records: Iterable<T>): Promise<void> {
  const items = [...records];
  const text = isJsonl(path)
    ? items.map((r) => JSON.stringify(r)).join('\n') + (items.length ? '\n' : '')
    : JSON.stringify(items, null, 2) + '\n';
  await writeTextAtomic(path, text);
}
