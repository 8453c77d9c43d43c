import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpCases, type HttpCase } from '../src/cases/http.js';
import { DEFAULT_WATCH } from '../src/watchdog.js';

/** The playground's server, built by its package. */
const SERVER = fileURLToPath(new URL('../../../apps/playground/dist/server/main.js', import.meta.url));

function proc(pid: number): { rssBytes: number; cpuMs: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { rssBytes: Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0) * 1024, cpuMs: (Number(fields[11]) + Number(fields[12])) * 10 };
}

interface Answer {
  status: number;
  body: string;
}

/** One raw HTTP request (fetch would refuse to send a Host header or an odd path). */
function send(base: URL, c: HttpCase): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      // A fresh connection each time: a refused request (431, 413) may close its socket.
      {
        host: base.hostname,
        port: base.port,
        method: c.method,
        path: c.path,
        headers: { host: `localhost:${base.port}`, ...(c.body !== undefined ? { 'content-length': String(Buffer.byteLength(c.body)) } : {}), ...c.headers },
        timeout: 20_000,
        agent: false,
      },
      (res) => {
        answered = true;
        let body = '';
        res.setEncoding('utf8').on('data', (s: string) => (body += s));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('close', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    let answered = false;
    req.on('timeout', () => req.destroy(new Error('no answer in 20 s')));
    // The server may answer (413) and close before the whole body is sent: the answer counts.
    req.on('error', (e) => (answered ? undefined : reject(e)));
    void writeBody(req, c.body, () => answered);
  });
}

/**
 * Writes the body; a large one starts with 64 KiB and a pause, in which a server that refuses it
 * from its Content-Length (413) answers and closes, before the rest would meet a closed socket.
 */
async function writeBody(req: ReturnType<typeof request>, body: string | Buffer | undefined, answered: () => boolean): Promise<void> {
  const bytes = body === undefined ? Buffer.alloc(0) : Buffer.from(body);
  if (bytes.length > 1 << 20) {
    req.write(bytes.subarray(0, 65536));
    for (let waited = 0; waited < 2000 && !answered(); waited += 10) await new Promise((r) => setTimeout(r, 10));
    if (answered()) return void req.destroy();
    req.end(bytes.subarray(65536));
    return;
  }
  req.end(bytes);
}

describe('the playground server under hostile and careless requests', () => {
  let server: ChildProcess;
  let base: URL;
  let peakRss = 0;
  let poll: NodeJS.Timeout;
  beforeAll(async () => {
    server = spawn(process.execPath, [SERVER, '--model', 'mige-tiny', '--port', '0', '--ui', '/nonexistent'], {
      env: { ...process.env, MIGE_MODEL: '', MIGE_BACKEND: 'wasm' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    base = new URL(
      await new Promise<string>((resolve, reject) => {
        let out = '';
        server.stdout?.on('data', (d: Buffer) => {
          out += d.toString();
          const url = /MIGE playground: (http:\/\/\S+)/.exec(out)?.[1];
          if (url) resolve(url);
        });
        server.on('close', (code) => reject(new Error(`the server exited (${code}): ${out}`)));
      }),
    );
    poll = setInterval(() => {
      peakRss = Math.max(peakRss, proc(server.pid as number).rssBytes);
      if (peakRss > DEFAULT_WATCH.maxRssBytes) server.kill('SIGKILL');
    }, 10);
  });
  afterAll(() => {
    clearInterval(poll);
    server.kill('SIGKILL');
  });

  it.each(httpCases().map((c) => [c.id, c] as const))('%s', async (_id, c) => {
    const before = proc(server.pid as number).cpuMs;
    const answer = await send(base, c);
    const cpuMs = proc(server.pid as number).cpuMs - before;
    expect(answer.status, answer.body.slice(0, 300)).toBe(c.expect.status);
    if (c.expect.error) expect((JSON.parse(answer.body) as { error: string }).error).toMatch(c.expect.error);
    if (answer.status >= 400 && answer.body.startsWith('{')) expect(answer.body).not.toMatch(/\n\s+at |internal error/);
    expect(cpuMs).toBeLessThan(DEFAULT_WATCH.cpuBudgetMs);
    if (answer.status === 202) {
      // An accepted job: cancel it, so the next cases meet an empty queue.
      const { id } = JSON.parse(answer.body) as { id: string };
      await send(base, { id: 'cancel', method: 'DELETE', path: `/api/jobs/${id}`, expect: { status: 200 } });
    }
  });

  it(`stayed alive and under ${DEFAULT_WATCH.maxRssBytes / 2 ** 30} GiB resident throughout`, async () => {
    expect((await send(base, { id: 'alive', method: 'GET', path: '/api/info', expect: { status: 200 } })).status).toBe(200);
    expect(peakRss).toBeGreaterThan(0);
    expect(peakRss).toBeLessThan(DEFAULT_WATCH.maxRssBytes);
  });
});
