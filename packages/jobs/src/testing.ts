/**
 * `@mige/jobs/testing`: a private Redis for tests and benchmarks. `MIGE_TEST_REDIS_URL` (set by
 * .ci/run) names a running one; otherwise `redis-server` is started on a free loopback port,
 * without persistence, and stopped by `stop()`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';

export interface TestRedis {
  url: string;
  /** Stops the server if this call started it. */
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function waitForReady(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => fail(new Error(`redis-server did not start in 10 s: ${output.slice(-500)}`)), 10_000);
    const fail = (e: Error) => {
      clearTimeout(timer);
      reject(e);
    };
    child.once('error', (e: NodeJS.ErrnoException) =>
      fail(e.code === 'ENOENT' ? new Error('the job queue tests need Redis: install redis-server (apt-get install -y redis-server) or set MIGE_TEST_REDIS_URL') : e),
    );
    child.once('exit', (code) => fail(new Error(`redis-server exited (${code}): ${output.slice(-500)}`)));
    child.stdout?.on('data', (d: Buffer) => {
      output += d.toString();
      if (output.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
}

/** A Redis for this test run: MIGE_TEST_REDIS_URL, or a fresh redis-server on a free loopback port. */
export async function startTestRedis(env: NodeJS.ProcessEnv = process.env): Promise<TestRedis> {
  if (env.MIGE_TEST_REDIS_URL) return { url: env.MIGE_TEST_REDIS_URL, stop: async () => {} };
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
  await waitForReady(child);
  return {
    url: `redis://127.0.0.1:${port}`,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
