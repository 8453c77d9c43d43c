import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { createRgbImage, encodeImage, initBackend, Rng, type RgbImage } from '@mige/core';
import { admissionSide, DEFAULT_REQUEST_LIMITS, MIGE_TINY, MigeModel, modelFlowDefaults, runFlowJob, validateFlowRequest, type FlowRequest } from '@mige/pipelines';
import { afterAll, beforeAll } from 'vitest';
import type { EnqueueRequest } from '../src/index.js';
import { startTestRedis, type TestRedis } from '../src/testing.js';

/** The built commands (turbo builds the package before its tests). */
export const JOBS_CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
export const MIGE_CLI = fileURLToPath(new URL('../../pipelines/dist/cli.js', import.meta.url));
/** The package folder: `@mige/jobs` resolves from here (self-reference), as in an install that has it. */
export const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));

/** A queue name no other test uses. */
export function uniqueQueue(label: string): string {
  return `test-${label}-${randomUUID().slice(0, 8)}`;
}

/** mige-tiny with random weights (seed 0) on wasm, as `mige worker --model mige-tiny` loads it. */
export async function tinyModel(): Promise<MigeModel> {
  await initBackend({ backend: 'wasm', log: null });
  return MigeModel.create(MIGE_TINY, { seed: 0 });
}

/** A Redis and the tiny model for the tests of a file, from beforeAll to afterAll. */
export function redisAndModel(): { redis: TestRedis; model: MigeModel } {
  const env = {} as { redis: TestRedis; model: MigeModel };
  beforeAll(async () => {
    [env.redis, env.model] = await Promise.all([startTestRedis(), tinyModel()]);
  });
  afterAll(async () => {
    env.model?.dispose();
    await env.redis?.stop();
  });
  return env;
}

/** A small picture: a coloured block on a gradient. */
export function picture(seed: number, size = 32): RgbImage {
  const rng = new Rng(seed);
  const [r, g, b] = [rng.int(0, 256), rng.int(0, 256), rng.int(0, 256)];
  const data = new Uint8Array(size * size * 3);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) data.set(x > 8 && x < 22 && y > 6 && y < 20 ? [r, g, b] : [x * 7, y * 6, 90], (y * size + x) * 3);
  }
  return createRgbImage(size, size, data);
}

export async function png(img: RgbImage): Promise<Uint8Array> {
  return new Uint8Array(await encodeImage(img, 'png'));
}

/** Request k of a varied set: generate, edit and compose in turn, each with its own images and seed. */
export async function request(k: number, steps = 3): Promise<EnqueueRequest> {
  const a = await png(picture(100 + k));
  const b = await png(picture(200 + k));
  switch (k % 3) {
    case 0:
      return { flow: 'generate', instruction: '<imagehere> in the center, on a plain blue background', images: [a], steps, seed: k };
    case 1:
      return { flow: 'edit', instruction: 'make the square in <imagehere> red', images: [a], steps, seed: k, scales: { y: 4, s: 1.5 } };
    default:
      return { flow: 'compose', instruction: 'in <imagehere>, replace the square with <imagehere>', images: [a, b], steps, seed: k, sampler: 'ddim' };
  }
}

/**
 * The same request run in this process, as the playground runs it (its images fitted to the
 * model's size on admission; `admit: false` skips that): the PNG bytes of each image.
 */
export async function runInProcess(model: MigeModel, req: EnqueueRequest, { admit = true } = {}): Promise<Buffer[]> {
  const dataUrl = (bytes: unknown) => `data:image/png;base64,${Buffer.from(bytes as Uint8Array).toString('base64')}`;
  const json = { ...req, images: (req.images ?? []).map(dataUrl) } as FlowRequest;
  const job = await validateFlowRequest(json, DEFAULT_REQUEST_LIMITS, (flow) => modelFlowDefaults(model, flow), admit ? { fitSide: admissionSide(model) } : {});
  const result = await runFlowJob(model, job);
  result.tensor.dispose();
  return result.images.map((img) => img.png);
}

/** A spawned command with its output lines so far. */
export interface Proc {
  child: ChildProcess;
  lines: string[];
  /** Resolves with the first line (so far or later) matching. */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<string>;
  exited: Promise<number | null>;
}

export function run(args: string[], options: { cwd?: string; env?: Record<string, string> } = {}): Proc {
  const child = spawn(process.execPath, args, {
    cwd: options.cwd ?? PACKAGE_DIR,
    env: { ...process.env, MIGE_BACKEND: 'wasm', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const waiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  let partial = '';
  const onData = (d: Buffer) => {
    partial += d.toString();
    const parts = partial.split('\n');
    partial = parts.pop() ?? '';
    for (const line of parts) {
      lines.push(line);
      for (const w of [...waiters]) {
        if (w.pattern.test(line)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(line);
        }
      }
    }
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return {
    child,
    lines,
    exited,
    waitForLine(pattern, timeoutMs = 60_000) {
      const seen = lines.find((l) => pattern.test(l));
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no line matching ${pattern} in ${timeoutMs} ms; output:\n${lines.join('\n')}`)), timeoutMs);
        waiters.push({ pattern, resolve: (line) => (clearTimeout(timer), resolve(line)) });
      });
    },
  };
}

/**
 * `mige worker` on the tiny model. A dead worker's job is taken up within about 6 s (lock 5 s,
 * stall check every 0.5 s): short for a test, long enough that a live worker on a loaded machine
 * (the whole suite on 2 cores) renews its lock in time.
 */
export async function startWorker(redis: string, queue: string, name: string, extra: string[] = []): Promise<Proc> {
  const proc = run([JOBS_CLI, 'worker', '--redis', redis, '--queue', queue, '--model', 'mige-tiny', '--name', name, '--lock-ms', '5000', '--stalled-ms', '500', ...extra]);
  await proc.waitForLine(/: ready;/);
  return proc;
}

/** `promise`, or an error after `ms` that shows the workers' output (what a hang looked like). */
export async function within<T>(promise: Promise<T>, ms: number, what: string, procs: Proc[]): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing after ${ms} ms; workers said:\n${procs.map((p) => p.lines.join('\n')).join('\n---\n')}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Job ids a worker's log says it finished. */
export function doneIds(proc: Proc): string[] {
  return proc.lines.flatMap((l) => /\bdone (\S+) in /.exec(l)?.[1] ?? []);
}

export { eventually } from '@mige/core/testing';
