import { createHash } from 'node:crypto';
import { mkdir, readFile, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, normalize, sep } from 'node:path';
import { MigeInputError, writeFileAtomic } from '@mige/core';
import { MigeRequestTooLargeError } from '@mige/pipelines';

/** What an image reference in a request or a result starts with. */
export const STORE_REF_PREFIX = 'store:';

/**
 * Images kept outside Redis: requests and results then carry `store:<key>` references. Every
 * producer and worker of a queue must see the same store.
 */
export interface ImageStore {
  /** Stores PNG / JPEG bytes under `key` (a relative path such as `results/42-0.png`); returns its reference. */
  put(key: string, bytes: Uint8Array): Promise<string>;
  /** The bytes behind a reference; MigeInputError when it is malformed, missing or over `maxBytes`. */
  get(ref: string, maxBytes: number): Promise<Buffer>;
}

export function isStoreRef(value: unknown): value is `store:${string}` {
  return typeof value === 'string' && value.startsWith(STORE_REF_PREFIX);
}

/** A content address for input images: the same bytes are stored once. */
export function contentKey(bytes: Uint8Array, folder: string): string {
  return `${folder}/${createHash('sha256').update(bytes).digest('hex').slice(0, 32)}.png`;
}

/** The default store: a folder (local, or a mount every machine of the deployment shares). */
export class LocalFolderStore implements ImageStore {
  constructor(readonly dir: string) {}

  private path(key: string, where: string): string {
    const clean = normalize(key);
    if (key === '' || isAbsolute(key) || clean.split(sep).includes('..') || clean !== key) {
      throw new MigeInputError(`store keys are plain relative paths inside the store, got ${JSON.stringify(key)}`, where);
    }
    return join(this.dir, clean);
  }

  async put(key: string, bytes: Uint8Array): Promise<string> {
    const path = this.path(key, 'store');
    await mkdir(dirname(path), { recursive: true });
    writeFileAtomic(path, (write) => write(bytes));
    return `${STORE_REF_PREFIX}${key}`;
  }

  async get(ref: string, maxBytes: number): Promise<Buffer> {
    if (!isStoreRef(ref)) throw new MigeInputError(`not a store reference (${STORE_REF_PREFIX}<key>): ${JSON.stringify(ref.slice(0, 80))}`);
    const path = this.path(ref.slice(STORE_REF_PREFIX.length), ref);
    let size: number;
    try {
      size = (await stat(path)).size;
    } catch {
      throw new MigeInputError(`no such image in the store ${this.dir}`, ref);
    }
    if (size > maxBytes) throw new MigeRequestTooLargeError(`${ref} is ${size} bytes, over the limit of ${maxBytes} bytes per image`);
    return readFile(path);
  }
}
