import { defineConfig, type Options } from 'tsup';
import { packageBuild } from '../../tsup.shared';

/**
 * Imports of the package's own entry modules stay imports of their one build: the CLI's
 * `../index.js` is `./index.js`, and the public entry's `./internal.js` (where every module
 * lives) is `./internal.cjs`, so `@mige/pipelines` and `@mige/pipelines/internal` share one copy
 * of the package's state (sampling defaults, ONNX attachments, registered backbones).
 */
const ownBuild: NonNullable<Options['esbuildPlugins']>[number] = {
  name: 'use-own-build',
  setup(build) {
    build.onResolve({ filter: /^\.\.\/index\.js$/ }, () => ({ path: './index.js', external: true }));
    build.onResolve({ filter: /^\.\/internal\.js$/ }, (args) => (args.importer.endsWith('/src/index.ts') ? { path: './internal.cjs', external: true } : undefined));
  },
};

// `@mige/pipelines` is a curated list over `@mige/pipelines/internal`. The package also ships the `mige` command line (dist/cli.js, a few lines over the package's
// build; bin/mige.js runs it) and the training worker thread's entry (TrainWorkers loads
// dist/train-worker.js by path; a worker has its own module graph anyway).
export default defineConfig([
  packageBuild({ index: 'src/index.ts', internal: 'src/internal.ts' }, { esbuildPlugins: [ownBuild] }),
  { entry: { cli: 'src/cli/main.ts' }, format: ['esm'], dts: false, sourcemap: false, clean: false, target: 'node20', esbuildPlugins: [ownBuild] },
  { entry: { 'train-worker': 'src/train/train-worker.ts' }, format: ['esm'], dts: false, sourcemap: false, clean: false, target: 'node20' },
]);
