import { defineConfig } from 'vitest/config';

/** Settings every package's vitest.config.ts starts from. */
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // tfjs-wasm start-up and model-sized tests on 2 cores need more than the 5 s default.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    reporters: ['default', 'json'],
    outputFile: { json: 'test-results.json' },
  },
});
