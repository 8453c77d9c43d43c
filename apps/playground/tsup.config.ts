import { defineConfig } from 'tsup';

/** The server (dist/server/main.js, the CLI) and the package entry; the UI is Vite's (dist/ui). */
export default defineConfig({
  entry: { index: 'src/index.ts', 'server/main': 'src/server/main.ts' },
  format: ['esm'],
  dts: { entry: { index: 'src/index.ts' } },
  sourcemap: true,
  clean: true,
  target: 'node20',
});
