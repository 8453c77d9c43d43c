import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** A unique hidden temp name next to `target` (same filesystem, so renames are atomic). */
export function tempSibling(target: string): string {
  const resolved = path.resolve(target);
  return path.join(path.dirname(resolved), `.${path.basename(resolved)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
}

/**
 * Fills a new folder `dir` all at once: `fill` writes into a temp sibling folder, which is then
 * renamed to `dir`, so `dir` never exists half-written. On error the temp folder is removed.
 */
export function createFolderAtomic(dir: string, fill: (temp: string) => void): void {
  const temp = tempSibling(dir);
  fs.mkdirSync(temp, { recursive: false });
  try {
    fill(temp);
    fs.renameSync(temp, dir);
  } catch (error) {
    fs.rmSync(temp, { recursive: true, force: true });
    throw error;
  }
}
