import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repo's copy of the reference fixtures (never the shared original). */
export const FIXTURES_DIR = fileURLToPath(new URL('../../../../../fixtures/reference/', import.meta.url));

/** Committed test data for the IO tests. */
export const IO_DATA_DIR = fileURLToPath(new URL('../../data/io/', import.meta.url));

export function listFiles(dir: string, suffix: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listFiles(full, suffix));
    else if (entry.name.endsWith(suffix)) out.push(full);
  }
  return out.sort();
}
