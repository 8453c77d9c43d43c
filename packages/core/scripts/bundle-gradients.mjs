// tfjs-core registers its gradient functions only from an ESM tree with extension-less imports
// that Node cannot load (the union @tensorflow/tfjs package bundles them instead). Bundle that
// tree once into src/backend/generated/tfjs-gradients.cjs, which the backend module imports.
// The registries are process-global in tfjs, so this copy registers into our tfjs-core.
import { build } from 'esbuild';
import { createRequire } from 'node:module';
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const entry = join(dirname(require.resolve('@tensorflow/tfjs-core/package.json')), 'dist/register_all_gradients.js');
const out = join(here, '../src/backend/generated/tfjs-gradients.cjs');
if (existsSync(out) && statSync(out).mtimeMs > statSync(entry).mtimeMs) process.exit(0);
mkdirSync(dirname(out), { recursive: true });
// A declaration keeps type bundlers from inlining the JavaScript into .d.ts files.
writeFileSync(out.replace(/\.cjs$/, '.d.cts'), 'export {};\n');
await build({ entryPoints: [entry], bundle: true, platform: 'node', format: 'cjs', outfile: out, logLevel: 'warning', legalComments: 'inline' });
