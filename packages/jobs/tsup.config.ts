import { defineConfig } from 'tsup';
import shared from '../../tsup.shared';

// jobs also ships the `mige-jobs` command (dist/cli.js, ESM only, with a shebang) and the module
// the `mige` command loads for `mige worker` / `mige batch` (dist/cli-lib.js), and a test Redis
// (dist/testing.js).
export default defineConfig([
  shared as object,
  { entry: { cli: 'src/cli/main.ts' }, format: ['esm'], dts: false, sourcemap: true, clean: false, target: 'node20', banner: { js: '#!/usr/bin/env node' } },
  { entry: { 'cli-lib': 'src/cli/index.ts', testing: 'src/testing.ts' }, format: ['esm'], dts: true, sourcemap: true, clean: false, target: 'node20' },
]);
