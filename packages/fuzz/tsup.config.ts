import { defineConfig } from 'tsup';

// The child of every fuzz case: one ESM file, with core's weight readers bundled from source
// (no tfjs to load); the other packages stay imports.
export default defineConfig({
  entry: ['src/child.ts'],
  format: ['esm'],
  platform: 'node',
  target: 'node20',
  clean: true,
  external: ['@mige/core', '@mige/data', '@mige/pipelines'],
});
