import { defineConfig } from 'tsup';
import shared from '../../tsup.shared';

// pipelines also ships the `mige` command line (dist/cli.js, ESM only, with a shebang).
export default defineConfig([
  shared as object,
  { entry: { cli: 'src/cli/main.ts' }, format: ['esm'], dts: false, sourcemap: true, clean: false, target: 'node20', banner: { js: '#!/usr/bin/env node' } },
]);
