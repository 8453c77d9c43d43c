import { defineConfig, mergeConfig } from 'vitest/config';
import shared from '../../vitest.shared';

// Packing and installing every package takes minutes, not the shared 2-minute budget.
export default mergeConfig(shared, defineConfig({ test: { testTimeout: 900_000, hookTimeout: 900_000 } }));
