import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll } from 'vitest';

/** A fresh temp directory for this test file, removed after its tests. */
export function useTempDir(prefix: string): () => string {
  let dir: string | undefined;
  afterAll(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });
  return () => {
    dir ??= fs.mkdtempSync(path.join(os.tmpdir(), `mige-vae-${prefix}-`));
    return dir;
  };
}
