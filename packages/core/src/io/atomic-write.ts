import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** fs.write rejects lengths of 2 GiB and more. */
const MAX_WRITE_CHUNK = 1 << 30;

function writeAll(fd: number, bytes: Uint8Array): void {
  let done = 0;
  while (done < bytes.byteLength) {
    done += fs.writeSync(fd, bytes, done, Math.min(bytes.byteLength - done, MAX_WRITE_CHUNK));
  }
}

/**
 * Writes a file so readers see either the old content or the complete new one: the bytes go
 * to a temp file in the same directory (same filesystem, so rename is atomic), which is fsynced
 * and then renamed over `target`. On any error the temp file is removed and `target` is untouched.
 */
export function writeFileAtomic(target: string, fill: (write: (bytes: Uint8Array) => void) => void): void {
  const dir = path.dirname(path.resolve(target));
  const temp = path.join(dir, `.${path.basename(target)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const fd = fs.openSync(temp, 'wx');
  let open = true;
  try {
    fill((bytes) => writeAll(fd, bytes));
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    open = false;
    fs.renameSync(temp, target);
  } catch (error) {
    if (open) fs.closeSync(fd);
    fs.rmSync(temp, { force: true });
    throw error;
  }
  syncDirectory(dir);
}

/** Makes the rename itself durable; not every platform can fsync a directory, so best effort. */
export function syncDirectory(dir: string): void {
  try {
    const fd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    // Windows and some filesystems refuse; the data itself is already synced.
  }
}

/** `writeFileAtomic` for text (UTF-8). */
export function writeTextFileAtomic(target: string, text: string): void {
  writeFileAtomic(target, (write) => write(new TextEncoder().encode(text)));
}
