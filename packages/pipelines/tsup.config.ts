import { defineConfig } from 'tsup';
import shared from '../../tsup.shared';

// pipelines also ships the `mige` command line (dist/cli.js, ESM only, with a shebang) and the
// training worker's entry.
export default defineConfig([
  shared as object,
  { entry: { cli: 'src/cli/main.ts' }, format: ['esm'], dts: false, sourcemap: true, clean: false, target: 'node20', banner: { js: '#!/usr/bin/env node' } },
  // The training worker thread's entry (TrainWorkers loads dist/train-worker.js by path).
  { entry: { 'train-worker': 'src/train/train-worker.ts' }, format: ['esm'], dts: false, sourcemap: true, clean: false, target: 'node20' },
]);
