// Every code block of the READMEs (the repository's, each package's, the playground's) runs as
// written:
// - js / ts blocks run with node / tsx from a file beside this package (so `@mige/*` imports
//   resolve to the workspace's builds), in a scratch working directory holding the images the
//   examples read: scene.png, subject.png and triangle.png, copied from the demo's inputs;
// - sh blocks run line by line with bash in that directory, with `mige` (and `npx mige`) being
//   this repository's built command. Lines that install (`npm install …`) or drive the
//   repository itself (`npx -y pnpm@10 …`: install, demo, test, build) are not run here: the
//   packaging test installs the tarballs with npm, and CI runs the repository's commands;
// - json and text blocks are data, not run.
// A block that fails fails its README's test, naming the block's line.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codeBlocks, type CodeBlock } from './readme-blocks.js';

const ROOT = resolve(import.meta.dirname, '../../..');
const HERE = resolve(import.meta.dirname, '..');
const READMES = [
  'README.md',
  ...readdirSync(join(ROOT, 'packages')).map((p) => `packages/${p}/README.md`),
  'apps/playground/README.md',
].filter((f) => existsSync(join(ROOT, f)));
const RUN_LANGS = new Set(['js', 'mjs', 'ts', 'sh', 'bash']);
const DATA_LANGS = new Set(['json', 'text', 'txt', '']);

let root: string;
let scripts: string;
let bin: string;

/** A fresh working directory per README, holding the images the examples read. */
function scratchFor(readme: string): string {
  const dir = join(root, readme.replace(/[/.]/g, '_'));
  mkdirSync(dir);
  const demo = join(ROOT, 'packages/pipelines/demo');
  copyFileSync(join(demo, 'edit-source.png'), join(dir, 'scene.png'));
  copyFileSync(join(demo, 'generate-subject0.png'), join(dir, 'subject.png'));
  copyFileSync(join(demo, 'compose-subject1.png'), join(dir, 'triangle.png'));
  return dir;
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'mige-readme-'));
  scripts = join(HERE, '.readme-run');
  rmSync(scripts, { recursive: true, force: true });
  mkdirSync(scripts);
  bin = join(root, '.bin');
  mkdirSync(bin);
  writeFileSync(join(bin, 'mige'), `#!/bin/sh\nexec node ${join(ROOT, 'packages/pipelines/bin/mige.js')} "$@"\n`, { mode: 0o755 });
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
  rmSync(scripts, { recursive: true, force: true });
});

function runCode(readme: string, block: CodeBlock, scratch: string): string {
  const ext = block.lang === 'ts' ? 'mts' : 'mjs';
  const file = join(scripts, `${readme.replace(/[/.]/g, '_')}-${block.line}.${ext}`);
  writeFileSync(file, block.code);
  const runner = block.lang === 'ts' ? [join(HERE, 'node_modules/.bin/tsx'), file] : [process.execPath, file];
  return execFileSync(runner[0] as string, runner.slice(1), { cwd: scratch, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, MIGE_BACKEND: 'wasm' } });
}

/** The sh lines this test runs (see the header comment for those it leaves to CI and the packaging test). */
export function runnableLines(code: string): string[] {
  return code
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .filter((l) => !/^npx -y pnpm@10\b/.test(l) && !/^npm (install|i|ci)\b/.test(l))
    .map((l) => l.replace(/^npx mige\b/, 'mige'));
}

function runShell(block: CodeBlock, scratch: string): string {
  let out = '';
  for (const line of runnableLines(block.code)) {
    out += execFileSync('bash', ['-c', line], { cwd: scratch, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, MIGE_BACKEND: 'wasm', PATH: `${bin}:${process.env.PATH}` } });
  }
  return out;
}

describe('README code blocks run as written', () => {
  it.each(READMES)('%s', (readme) => {
    const blocks = codeBlocks(join(ROOT, readme));
    const scratch = scratchFor(readme);
    for (const block of blocks) {
      const where = `${readme}:${block.line} (${block.lang || 'no language'})`;
      if (DATA_LANGS.has(block.lang)) continue;
      expect(RUN_LANGS.has(block.lang), `${where}: a block this test cannot run; mark data as json or text`).toBe(true);
      try {
        const out = block.lang === 'sh' || block.lang === 'bash' ? runShell(block, scratch) : runCode(readme, block, scratch);
        console.log(`[readme] ${where}: ok${out.trim() ? `\n  ${out.trim().split('\n').slice(-3).join('\n  ')}` : ''}`);
      } catch (error) {
        const e = error as { stderr?: string; stdout?: string; message: string };
        throw new Error(`${where} failed:\n${(e.stderr || e.stdout || e.message).trim().split('\n').slice(-12).join('\n')}`);
      }
    }
  });
});
