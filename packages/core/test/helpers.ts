// Core's tests use the shared helpers from source (other packages import @mige/core/testing).
export { TEST_BACKENDS, expectClose, maxAbsDiff, useBackend } from '../src/testing/index.js';

export const dataPath = (rel: string): string => new URL(`./data/${rel}`, import.meta.url).pathname;
