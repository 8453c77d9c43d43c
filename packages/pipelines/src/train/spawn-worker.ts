import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

/**
 * A worker thread running one of the package's worker entries: `dist/<built>` next to the bundle,
 * or (running from sources, as the tests do) `src/train/<source>`, a TypeScript file loaded
 * through tsx by worker-from-source.mjs. tsup.config.ts builds each entry to `dist/<built>`.
 * `transferList`: buffers of `workerData` to move rather than copy.
 */
export function spawnWorker(entry: { built: string; source: string }, workerData: unknown, transferList: ArrayBuffer[] = []): Worker {
  // typeof guards: __filename exists only in the CJS bundle, import.meta only in ESM.
  const here = dirname(typeof __filename === 'string' ? __filename : fileURLToPath(import.meta.url));
  const built = join(here, entry.built);
  if (existsSync(built)) return new Worker(built, { workerData, transferList });
  return new Worker(join(here, 'worker-from-source.mjs'), { workerData, transferList, argv: [pathToFileURL(join(here, entry.source)).href] });
}
