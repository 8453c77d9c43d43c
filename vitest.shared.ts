import { defineConfig } from 'vitest/config';

/** Settings every package's vitest.config.ts starts from. */
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // tfjs-wasm start-up and model-sized tests on 2 cores need more than the 5 s default.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Other packages load as Node loads them (their dist/ builds, not through Vite), so that
    // every import and require of a package meets its one CommonJS build (one core).
    server: { deps: { external: [/\/packages\/[^/]+\/dist\//] } },
    reporters: ['default', 'json'],
    outputFile: { json: 'test-results.json' },
  },
});
