import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { MigeInputError } from '@mige/core';
import type { CacheIndex } from './types.js';

export const INDEX_FILE = 'index.json';

/** Reads index.json; a missing one is an empty cache, a malformed one an error naming it. */
export function readIndex(dir: string): CacheIndex {
  const path = join(dir, INDEX_FILE);
  if (!existsSync(path)) return { version: 1, shards: [] };
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new MigeInputError(`not valid JSON: ${error instanceof Error ? error.message : String(error)}`, path);
  }
  if (!isIndex(parsed)) throw new MigeInputError('not a feature-cache index (version 1)', path);
  return parsed;
}

function isIndex(value: unknown): value is CacheIndex {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as { version?: unknown; shards?: unknown };
  return (
    v.version === 1 &&
    Array.isArray(v.shards) &&
    v.shards.every((s: unknown) => {
      if (typeof s !== 'object' || s === null) return false;
      const shard = s as { file?: unknown; hashes?: unknown };
      return typeof shard.file === 'string' && Array.isArray(shard.hashes) && shard.hashes.every((h) => typeof h === 'string');
    })
  );
}

/** Temp file + rename, so a crash leaves either the old index or the new one, never half. */
export function writeIndex(dir: string, index: CacheIndex): void {
  const path = join(dir, INDEX_FILE);
  const temp = join(dir, `.${INDEX_FILE}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const fd = openSync(temp, 'wx');
    try {
      writeSync(fd, `${JSON.stringify(index, null, 1)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, path);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
}
