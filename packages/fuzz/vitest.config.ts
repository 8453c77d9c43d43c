import { defineConfig, mergeConfig } from 'vitest/config';
import shared from '../../vitest.shared';

// The cases run in child processes, several at a time: one test file at a time keeps them
// from competing with the kill -9 and HTTP tests for the two cores.
export default mergeConfig(shared, defineConfig({ test: { fileParallelism: false } }));
