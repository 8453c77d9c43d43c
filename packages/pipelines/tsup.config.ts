import { defineConfig, type Options } from 'tsup';
import { packageBuild } from '../../tsup.shared';

/** Imports of the package's own root module (`../index.js`) stay imports of its one build (`./index.js`). */
const ownBuild: NonNullable<Options['esbuildPlugins']>[number] = {
  name: 'use-own-build',
  setup(build) {
    build.onResolve({ filter: /^\.\.\/index\.js$/ }, () => ({ path: './index.js', external: true }));
  },
};

// pipelines also ships the `mige` command line (dist/cli.js, a few lines over the package's
// build; bin/mige.js runs it) and the training worker thread's entry (TrainWorkers loads
// dist/train-worker.js by path; a worker has its own module graph anyway).
export default defineConfig([
  packageBuild(),
  { entry: { cli: 'src/cli/main.ts' }, format: ['esm'], dts: false, sourcemap: false, clean: false, target: 'node20', esbuildPlugins: [ownBuild] },
  { entry: { 'train-worker': 'src/train/train-worker.ts' }, format: ['esm'], dts: false, sourcemap: false, clean: false, target: 'node20' },
]);
