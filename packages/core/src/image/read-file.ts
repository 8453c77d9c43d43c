import { readFile, stat } from 'node:fs/promises';
import { MigeInputError } from '../errors.js';

function describeFsError(err: unknown): string {
  const code = (err as { code?: unknown }).code;
  if (code === 'ENOENT') return 'file not found';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'is a directory, not an image file';
  return `cannot read file: ${err instanceof Error ? err.message : String(err)}`;
}

/** Reads a whole file after checking its size, so an oversized file is never loaded. */
export async function readBoundedFile(path: string, maxBytes: number, where: string): Promise<Uint8Array> {
  let size: number;
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new MigeInputError('is not a regular file', where);
    size = info.size;
  } catch (err) {
    if (err instanceof MigeInputError) throw err;
    throw new MigeInputError(describeFsError(err), where);
  }
  if (size > maxBytes) {
    throw new MigeInputError(`file is ${size} bytes, over the limit maxBytes=${maxBytes}`, where);
  }
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new MigeInputError(describeFsError(err), where);
  }
  // The file may have grown between stat and read.
  if (bytes.length > maxBytes) {
    throw new MigeInputError(`file is ${bytes.length} bytes, over the limit maxBytes=${maxBytes}`, where);
  }
  return bytes;
}
