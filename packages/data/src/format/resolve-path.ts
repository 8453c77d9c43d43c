import { realpath, stat } from 'node:fs/promises';
import { isAbsolute, relative, resolve } from 'node:path';

/** Result of placing a record's path under the dataset root. */
export type ResolvedPath = { ok: true; path: string } | { ok: false; reason: string };

function inside(root: string, p: string): boolean {
  const rel = relative(root, p);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/**
 * Resolves `p` (relative to `root`, or absolute) and checks it stays inside the root, both as
 * written and after following symlinks, so a dataset cannot point training at arbitrary files.
 * `realRoot` is the root's realpath, computed once by the caller.
 */
export async function resolveInsideRoot(root: string, realRoot: string, p: string, field: string): Promise<ResolvedPath> {
  if (p === '') return { ok: false, reason: `${field} is empty` };
  if (p.includes('\0')) return { ok: false, reason: `${field} contains a NUL byte` };
  const full = resolve(root, p);
  // Against the root as written or its real path: loadDataset hands out real absolute paths.
  if (!inside(resolve(root), full) && !inside(realRoot, full)) return { ok: false, reason: `${field} "${p}" leaves the dataset root` };
  let real: string;
  try {
    real = await realpath(full);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    return { ok: false, reason: `${field} "${p}": ${code === 'ENOENT' ? 'file not found' : (err as Error).message}` };
  }
  if (!inside(realRoot, real)) return { ok: false, reason: `${field} "${p}" leaves the dataset root through a symlink` };
  if (!(await stat(real)).isFile()) return { ok: false, reason: `${field} "${p}" is not a regular file` };
  return { ok: true, path: real };
}
