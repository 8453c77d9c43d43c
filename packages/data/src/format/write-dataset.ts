import { randomBytes } from 'node:crypto';
import { rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { isJsonl } from './read-dataset.js';

/** Writes text so readers see the old file or the whole new one: temp file in the same dir, then rename. */
export async function writeTextAtomic(target: string, text: string): Promise<void> {
  const dir = dirname(resolve(target));
  const temp = join(dir, `.${basename(target)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await writeFile(temp, text, { encoding: 'utf8', flag: 'wx', flush: true });
    await rename(temp, target);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
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
