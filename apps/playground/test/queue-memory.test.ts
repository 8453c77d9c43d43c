import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bigPngDataUrl } from './big-image.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** The server process's resident memory must stay under this through 20 large compose requests. */
const RSS_LIMIT_MB = 800;

function rssMb(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) / 1024;
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}

describe('the queue keeps small images', () => {
  let server: ChildProcess;
  let url = '';
  beforeAll(async () => {
    server = spawn(process.execPath, ['--import', 'tsx', 'src/server/main.ts', '--model', 'mige-tiny', '--port', '0'], {
      cwd: ROOT,
      env: { ...process.env, MIGE_MODEL: '', MIGE_BACKEND: 'wasm' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    url = await new Promise<string>((resolve, reject) => {
      let out = '';
      server.stdout?.on('data', (d: Buffer) => {
        out += d.toString();
        const found = /MIGE playground: (http:\/\/\S+)\//.exec(out)?.[1];
        if (found) resolve(found);
      });
      server.on('close', (code) => reject(new Error(`the server exited (${code}): ${out}`)));
    });
  });
  afterAll(() => {
    server.kill('SIGKILL');
  });

  it(`stays under ${RSS_LIMIT_MB} MB resident through 20 compose requests of four 4000x4000 PNGs`, async () => {
    const image = await bigPngDataUrl(4000, 4000);
    const body = JSON.stringify({ flow: 'compose', instruction: 'put <imagehere> and <imagehere> and <imagehere> in <imagehere>', images: [image, image, image, image], sourceSlot: 3, steps: 2 });
    const pid = server.pid as number;
    const before = rssMb(pid);
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => fetch(`${url}/api/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body }).then(async (r) => ({ status: r.status, body: await r.text() }))),
    );
    const after = rssMb(pid);
    process.stdout.write(`server RSS: ${before.rss.toFixed(0)} MB before, ${after.rss.toFixed(0)} MB after, peak ${after.peak.toFixed(0)} MB; answers ${answers.map((a) => a.status).join(',')}\n`);
    expect(answers.filter((a) => a.status === 202).length).toBeGreaterThanOrEqual(16);
    expect(answers.every((a) => a.status === 202 || a.status === 429), JSON.stringify(answers.filter((a) => a.status !== 202 && a.status !== 429))).toBe(true);
    expect(after.peak).toBeLessThan(RSS_LIMIT_MB);
  }, 300_000);
});
