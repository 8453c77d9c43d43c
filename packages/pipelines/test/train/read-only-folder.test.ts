import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';

// A read-only file system cannot be mounted by an unprivileged test, so mkdir and writeFile
// answer as Linux does on one (EROFS). Node's recursive mkdir reports that as ENOENT, which is
// what the user saw before; the folder is now made one level at a time to get the real reason.
vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  const erofs = (path: unknown): never => {
    throw Object.assign(new Error(`EROFS: read-only file system, '${String(path)}'`), { code: 'EROFS', path });
  };
  const readOnly = (path: unknown) => String(path).includes('read-only-mount');
  return {
    ...fs,
    mkdirSync: (path: string, options?: unknown) => (readOnly(path) ? erofs(path) : fs.mkdirSync(path, options as never)),
    writeFileSync: (path: string, ...rest: unknown[]) => (readOnly(path) ? erofs(path) : (fs.writeFileSync as (...a: unknown[]) => void)(path, ...rest)),
  };
});

const { ensureWritableFolder } = await import('../../src/train/resume-policy.js');

describe('a run folder on a read-only file system', () => {
  const base = mkdtempSync(join(tmpdir(), 'mige-ro-'));
  afterAll(() => rmSync(base, { recursive: true, force: true }));

  it('says the file system is read-only when the folder must be created', () => {
    const out = join(base, 'read-only-mount', 'run');
    expect(() => ensureWritableFolder(out)).toThrow(`${join(base, 'read-only-mount')}: cannot create the run folder: the file system is read-only`);
  });

  it('says so when the folder exists but cannot be written', async () => {
    const real = await vi.importActual<typeof import('node:fs')>('node:fs');
    const out = join(base, 'read-only-mount-existing');
    real.mkdirSync(out);
    expect(() => ensureWritableFolder(out)).toThrow(`${out}: cannot write in the run folder: the file system is read-only`);
  });
});
