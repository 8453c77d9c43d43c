// What a user installs: every package packed with `pnpm pack` (as publishing packs it), then the
// tarballs installed with plain npm into empty folders, install scripts on, with the npm registry
// as the only network. The install of everything (without onnxruntime-node) loads the default
// model and generates; the install of @mige/core + @mige/vae runs the VAE README's example.
// Each install's size is printed and held to the targets (core ≤ 80 MB, pipelines without
// onnxruntime-node ≤ 120 MB).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeImage } from '@mige/core';
import { codeBlocks } from './readme-blocks.js';

const ROOT = resolve(import.meta.dirname, '../../..');
const PACKAGES = ['core', 'vae', 'dit', 'encoder', 'fusion', 'data', 'pipelines', 'model-world'];
// Packed and checked as the others; not in the installs below (the job queue is not what `npm install @mige/pipelines` brings).
const PACKED = [...PACKAGES, 'jobs'];
const MB = 1e6;

let work: string;
const tarballs = new Map<string, string>();

function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): string {
  return execFileSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * MB });
}

/** Bytes under `dir`, following no links (what the install put on disk). */
function du(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) n += du(p);
    else if (e.isFile()) n += statSync(p).size;
  }
  return n;
}

/** The largest installed packages, for the log: "name 12.3 MB". */
function largest(nodeModules: string, count = 6): string {
  const sizes: [string, number][] = [];
  for (const e of readdirSync(nodeModules, { withFileTypes: true })) {
    if (!e.isDirectory() || e.name.startsWith('.')) continue;
    const dirs = e.name.startsWith('@') ? readdirSync(join(nodeModules, e.name)).map((s) => `${e.name}/${s}`) : [e.name];
    for (const d of dirs) sizes.push([d, du(join(nodeModules, d))]);
  }
  return sizes.sort((a, b) => b[1] - a[1]).slice(0, count).map(([d, s]) => `${d} ${(s / MB).toFixed(1)} MB`).join(', ');
}

/** npm install of the given tarballs into a fresh folder; returns the folder. */
function npmInstall(name: string, packages: string[], extra: string[] = []): string {
  const dir = join(work, name);
  mkdirSync(dir);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `mige-${name}`, version: '1.0.0', private: true, type: 'module' }));
  const specs = [...packages.map((p) => tarballs.get(p) as string), ...extra];
  const out = run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=warn', ...specs], dir, { npm_config_ignore_scripts: 'false' });
  if (out.trim()) console.log(`[packaging] npm install (${name}): ${out.trim()}`);
  return dir;
}

function report(label: string, dir: string): number {
  const bytes = du(join(dir, 'node_modules'));
  console.log(`[packaging] ${label}: ${(bytes / MB).toFixed(1)} MB installed (largest: ${largest(join(dir, 'node_modules'))})`);
  return bytes;
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'mige-packaging-'));
  const packs = join(work, 'tarballs');
  mkdirSync(packs);
  for (const p of PACKED) {
    const out = run('npx', ['-y', 'pnpm@10', 'pack', '--pack-destination', packs], join(ROOT, 'packages', p));
    const file = out.trim().split('\n').pop() as string;
    expect(existsSync(file), `pnpm pack in packages/${p} printed ${out}`).toBe(true);
    tarballs.set(p, file);
  }
});

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the packed tarballs', () => {
  it('each hold LICENSE, README.md and package.json; no source maps; pipelines no model weights', () => {
    for (const [p, file] of tarballs) {
      const files = run('tar', ['-tzf', file], work).trim().split('\n').map((f) => f.replace(/^package\//, ''));
      const size = statSync(file).size;
      console.log(`[packaging] tarball @mige/${p}: ${(size / MB).toFixed(2)} MB, ${files.length} files`);
      for (const f of ['LICENSE', 'README.md', 'package.json']) expect(files, `${p} lacks ${f}`).toContain(f);
      expect(files.filter((f) => f.endsWith('.map')), `${p} ships source maps`).toEqual([]);
      const manifest = JSON.parse(run('tar', ['-xzOf', file, 'package/package.json'], work)) as Record<string, unknown>;
      expect(manifest.repository, `${p} has no repository`).toBeTruthy();
      expect((manifest.engines as { node?: string } | undefined)?.node, `${p} has no engines.node`).toBe('>=20.15');
      expect(JSON.stringify(manifest), `${p} still has a workspace: range`).not.toContain('workspace:');
      if (p === 'pipelines') expect(files.some((f) => f.endsWith('.safetensors'))).toBe(false);
      if (p === 'model-world') expect(files).toEqual(expect.arrayContaining(['config.json', 'model.safetensors', 'tokenizer.json', 'sampling.json', 'MODEL_CARD.md']));
    }
  });
});

describe('npm install of every package (without onnxruntime-node)', () => {
  let dir: string;
  beforeAll(() => {
    dir = npmInstall('all', PACKAGES);
  });

  it('is within 120 MB without the model, and the default model adds its own package only', () => {
    const all = report('@mige/pipelines + all its packages + @mige/model-world, no onnxruntime-node', dir);
    const model = du(join(dir, 'node_modules', '@mige', 'model-world'));
    console.log(`[packaging] of which @mige/model-world: ${(model / MB).toFixed(1)} MB; without it: ${((all - model) / MB).toFixed(1)} MB (target ≤ 120 MB)`);
    expect(existsSync(join(dir, 'node_modules', 'onnxruntime-node'))).toBe(false);
    expect(all - model).toBeLessThanOrEqual(120 * MB);
  });

  it('loads the default model and generates, from ESM and from CommonJS, with one copy of core', () => {
    writeFileSync(
      join(dir, 'generate.mjs'),
      `import { createRequire } from 'node:module';
import { writeFile } from 'node:fs/promises';
import { decodeImage, loadOnnxRuntime, MigeInputError } from '@mige/core';
import { MigePipeline } from '@mige/pipelines';
const require = createRequire(import.meta.url);
const cjsCore = require('@mige/core');
const cjsPipelines = require('@mige/pipelines');
console.log('one core:', cjsCore.MigeInputError === MigeInputError, cjsPipelines.MigePipeline === MigePipeline);
const err = await cjsCore.decodeImage(Uint8Array.of(1, 2, 3)).catch((e) => e);
console.log('instanceof across entries:', err instanceof MigeInputError);
const ort = await loadOnnxRuntime().catch((e) => e);
console.log('without onnxruntime-node:', ort instanceof MigeInputError ? ort.message : 'loaded?!');
const pipe = await MigePipeline.fromPretrained('mige-world');
const subject = await decodeImage('subject.png');
const { images, params } = await pipe.generate({ instruction: '<imagehere> in the center, on a plain blue background', images: [subject], seed: 0, outputType: 'png' });
await writeFile('out.png', images[0]);
console.log('generated', params[0].model, params[0].steps, 'steps');
await pipe.dispose();
`,
    );
    writeFileSync(join(dir, 'subject.png'), readFileSync(join(ROOT, 'packages/pipelines/demo/generate-subject0.png')));
    const out = run('node', ['generate.mjs'], dir);
    console.log(`[packaging] ${out.trim().replace(/\n/g, '\n[packaging] ')}`);
    expect(out).toContain('one core: true true');
    expect(out).toContain('instanceof across entries: true');
    expect(out).toMatch(/without onnxruntime-node: .*needs onnxruntime-node, which is not installed: .*ONNXRUNTIME_NODE_INSTALL=skip/);
    expect(out).toContain('generated mige-world 20 steps');
    return decodeImage(join(dir, 'out.png')).then((img) => expect([img.width, img.height]).toEqual([64, 64]));
  });

  it('says why a preferred backend that is installed but broken did not start, then falls back', () => {
    // A stand-in for @tensorflow/tfjs-node whose native binding is missing.
    const fake = join(dir, 'node_modules', '@tensorflow', 'tfjs-node');
    mkdirSync(fake, { recursive: true });
    writeFileSync(join(fake, 'package.json'), JSON.stringify({ name: '@tensorflow/tfjs-node', version: '4.22.0', main: 'index.js' }));
    writeFileSync(join(fake, 'index.js'), "throw new Error('The specified module could not be found.\\ntfjs_binding.node can not be found');\n");
    const r = spawnSync('node', ['-e', "import('@mige/core').then((c) => c.initBackend())"], { cwd: dir, encoding: 'utf8' });
    console.log(`[packaging] broken tfjs-node: ${r.stderr.trim().replace(/\n/g, ' | ')}`);
    expect(r.status).toBe(0);
    expect(r.stderr.trim().split('\n')).toEqual([
      '[mige] backend tensorflow could not start (@tensorflow/tfjs-node is installed but did not load: The specified module could not be found.); trying the next one',
      '[mige] backend: wasm (preference order)',
    ]);
    rmSync(join(dir, 'node_modules', '@tensorflow', 'tfjs-node'), { recursive: true });
  });

  it('runs the mige command from the install', () => {
    const out = run(join(dir, 'node_modules', '.bin', 'mige'), ['info'], dir);
    expect(out).toMatch(/model: mige-world, 64 px/);
  });
});

describe('npm install of @mige/core, then @mige/vae', () => {
  let dir: string;
  beforeAll(() => {
    dir = npmInstall('core-vae', ['core']);
  });

  it('core alone is within 80 MB, and core + vae run the VAE README example as written', () => {
    const core = report('@mige/core alone', dir);
    expect(core).toBeLessThanOrEqual(80 * MB);
    run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=warn', tarballs.get('vae') as string], dir);
    report('@mige/core + @mige/vae', dir);
    const [example] = codeBlocks(join(ROOT, 'packages/vae/README.md')).filter((b) => b.lang === 'js');
    expect(example, 'the VAE README has a js example').toBeDefined();
    writeFileSync(join(dir, 'example.mjs'), (example as { code: string }).code);
    const out = run('node', ['example.mjs'], dir);
    console.log(`[packaging] VAE README example: ${out.trim()}`);
    expect(out.trim().length).toBeGreaterThan(0);
  });
});
