import { defineConfig } from 'tsup';
import { packageBuild } from '../../tsup.shared';

// core also ships the shared test helpers as @mige/core/testing, which use core's own build
// (../index.cjs) rather than a bundled second copy of it.
export default defineConfig(
  packageBuild(
    { index: 'src/index.ts', 'testing/index': 'src/testing/index.ts' },
    {
      esbuildPlugins: [
        {
          name: 'testing-uses-core-build',
          setup(build) {
            build.onResolve({ filter: /^\.\.\/index\.js$/ }, (args) =>
              args.importer.includes('/src/testing/') ? { path: '../index.cjs', external: true } : undefined,
            );
          },
        },
      ],
    },
  ),
);
