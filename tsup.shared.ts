import { defineConfig, type Options } from 'tsup';

/**
 * Every package builds the same way: ONE CommonJS build of each entry (dist/<entry>.cjs and its
 * .d.cts), and for `import` a one-line ES module (dist/<entry>.js, .d.ts) that re-exports it,
 * written by scripts/esm-wrappers.mjs after tsup.
 * So `import` and `require` load the same module: one copy of core (one MigeInputError class,
 * one backend state) whichever entry an application, or a mix of its dependencies, uses. Node
 * 20.15 cannot `require` an ES module, hence CommonJS as the single build. No source maps ship
 * (the bundles are plain, unminified JavaScript).
 */
export function packageBuild(entries: Record<string, string> = { index: 'src/index.ts' }, options: Options = {}): Options {
  return {
    entry: entries,
    format: ['cjs'],
    dts: true,
    sourcemap: false,
    clean: true,
    target: 'node20',
    // Modules that read import.meta.url fall back to __dirname / __filename in this build.
    esbuildOptions(o) {
      o.logOverride = { ...o.logOverride, 'empty-import-meta': 'silent' };
    },
    ...options,
  };
}

export default defineConfig(packageBuild());
