import { defineConfig } from 'tsup';
import { packageBuild } from '../../tsup.shared';

// One CommonJS build of each entry (with its ES module re-export, as every package): the API,
// `@mige/jobs/cli` (the commands the `mige` command loads for `mige worker` / `mige batch`) and
// `@mige/jobs/testing` (a test Redis). The `mige-jobs` command is dist/cli.js (ES module, run by
// bin/mige-jobs.js).
export default defineConfig([
  packageBuild({ index: 'src/index.ts', 'cli-lib': 'src/cli/index.ts', testing: 'src/testing.ts' }),
  { entry: { cli: 'src/cli/main.ts' }, format: ['esm'], dts: false, sourcemap: false, clean: false, target: 'node20' },
]);
