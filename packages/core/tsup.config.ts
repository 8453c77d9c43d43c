import { defineConfig } from 'tsup';
import shared from '../../tsup.shared';

// core also ships the shared test helpers as @mige/core/testing.
export default defineConfig({ ...(shared as object), entry: ['src/index.ts', 'src/testing/index.ts'] });
