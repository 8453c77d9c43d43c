import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { InfoResponse } from '../src/api/api-types.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs src/server/main.ts (through tsx) until it exits, or until `onStdout` returns true (then stops it with SIGTERM). */
function runMain(args: string[], onStdout?: (text: string) => Promise<boolean>): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/server/main.ts', ...args], { cwd: ROOT, env: { ...process.env, MIGE_MODEL: '', MIGE_BACKEND: 'wasm' } });
    let stdout = '';
    let stderr = '';
    let checking = false;
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (!onStdout || checking) return;
      checking = true;
      onStdout(stdout).then(
        (stop) => {
          checking = false;
          if (stop) child.kill('SIGTERM');
        },
        (e: unknown) => {
          child.kill('SIGKILL');
          reject(e);
        },
      );
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('the mige-playground command', () => {
  it('loads --model mige-tiny, prints its URL and serves the API until SIGTERM', async () => {
    let info: InfoResponse | undefined;
    const run = await runMain(['--model', 'mige-tiny', '--port', '0'], async (out) => {
      const url = /MIGE playground: (http:\/\/\S+)/.exec(out)?.[1];
      if (!url) return false;
      info = (await (await fetch(new URL('api/info', url))).json()) as InfoResponse;
      return true;
    });
    expect(run.stdout).toMatch(/^MIGE playground: http:\/\/127\.0\.0\.1:\d+\/\n {2}model: preset mige-tiny with random weights/);
    expect(info?.model).toEqual({ name: 'mige-tiny', imageSize: 32, cliArg: 'mige-tiny' });
    expect(run.code).toBe(0);
  });

  it.each([
    [['--model', '/nonexistent/model'], 1, /^mige-playground: --model \/nonexistent\/model: no such folder, and not a preset \(mige-xl, mige-tiny\)\n$/],
    [['--port', 'abc'], 2, /^mige-playground: --port must be an integer from 0 to 65535, got abc\n/],
    [['--colour'], 2, /^mige-playground: Unknown option '--colour'/],
  ])('%j exits %i with one line saying why', async (args, code, message) => {
    const run = await runMain(args);
    expect(run.code).toBe(code);
    expect(run.stderr).toMatch(message);
  });

  it('--help lists the flags', async () => {
    const run = await runMain(['--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/--model <dir\|preset>[\s\S]*--port <n>[\s\S]*--host <addr>/);
  });
});
