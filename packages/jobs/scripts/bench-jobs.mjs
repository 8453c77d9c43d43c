/**
 * Job queue throughput and latency on this machine (issue 49): N = 1 and 2 `mige worker`
 * processes with the shipped default model (mige-world, 64 px, its own 20-step settings) on a
 * private Redis, fed the demo's generate / edit / compose requests in turn at a fixed arrival rate.
 * Reports, per N and rate: throughput (jobs finished / time from the first arrival to the last
 * finish) and latency percentiles (enqueue → result), and the time one job takes on one idle
 * worker. Writes bench-results/jobs.json atomically.
 *
 *   pnpm --filter @mige/jobs bench                 (from packages/jobs: pnpm bench)
 *   node scripts/bench-jobs.mjs --jobs 30 --rates 0.5,1 --workers 1,2 --out <file.json>
 *   node scripts/bench-jobs.mjs --quick            smoke run: 4 jobs per case
 *
 * Rates are in multiples of one worker's capacity (1 / its time per job), measured first: 0.5
 * loads one worker half, 1.5 overloads it and loads two at 75%.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { writeTextFileAtomic } from '@mige/core';
import { JobProducer } from '../dist/index.js';
import { startTestRedis } from '../dist/testing.js';

const { values: args } = parseArgs({
  options: { quick: { type: 'boolean' }, jobs: { type: 'string' }, rates: { type: 'string' }, workers: { type: 'string' }, out: { type: 'string' } },
});
const quick = args.quick === true;
const jobsPerCase = Number(args.jobs ?? (quick ? 4 : 30));
const rates = (args.rates ?? '0.5,1.5').split(',').map(Number);
const workerCounts = (args.workers ?? '1,2').split(',').map(Number);
const out = resolve(args.out ?? fileURLToPath(new URL('../../../bench-results/jobs.json', import.meta.url)));
const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const DEMO = fileURLToPath(new URL('../../pipelines/demo/', import.meta.url));
const log = (line) => process.stderr.write(`${line}\n`);

/** The demo's three requests (the README's demo), as PNG bytes. */
function demoRequests() {
  const demo = JSON.parse(readFileSync(join(DEMO, 'demo.json'), 'utf8'));
  return demo.examples.map((ex) => ({
    flow: ex.flow,
    instruction: ex.instruction,
    images: ex.entities.map((f) => new Uint8Array(readFileSync(join(DEMO, f)))),
    seed: demo.seed,
  }));
}

function startWorker(redis, queue, name) {
  const child = spawn(process.execPath, [CLI, 'worker', '--redis', redis, '--queue', queue, '--name', name, '--quiet'], {
    env: { ...process.env, GLIBC_TUNABLES: 'glibc.malloc.hugetlb=1:glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=1073741824' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let text = '';
  const ready = new Promise((ok, fail) => {
    child.stdout.on('data', (d) => {
      text += d.toString();
      if (text.includes(': ready;')) ok(text.trim());
    });
    child.on('exit', (code) => fail(new Error(`worker ${name} exited (${code}): ${text}`)));
  });
  return { child, ready };
}

/** Peak and current resident memory of a process, MiB (Linux /proc). */
function memoryMiB(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (key) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]);
    return { peakRssMiB: Math.round(kib('VmHWM') / 1024), rssMiB: Math.round(kib('VmRSS') / 1024) };
  } catch {
    return null;
  }
}

async function stopWorkers(workers) {
  await Promise.all(workers.map((w) => new Promise((ok) => (w.child.exitCode !== null ? ok() : (w.child.once('exit', ok), w.child.kill('SIGTERM'))))));
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
const round = (x, d = 3) => Math.round(x * 10 ** d) / 10 ** d;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Enqueues `count` jobs at `rate` jobs/s (fixed spacing) and waits for all; latencies from the queue's own timestamps. */
async function runCase(producer, requests, count, rate) {
  const t0 = Date.now();
  const ids = [];
  const results = [];
  for (let i = 0; i < count; i++) {
    const due = t0 + (i * 1000) / rate;
    if (due > Date.now()) await sleep(due - Date.now());
    const id = await producer.enqueue(requests[i % requests.length]);
    ids.push(id);
    results.push(producer.result(id));
  }
  await Promise.all(results);
  const infos = await Promise.all(ids.map((id) => producer.state(id)));
  const latency = infos.map((i) => (i.finishedAt - i.enqueuedAt) / 1000).sort((a, b) => a - b);
  const wait = infos.map((i) => (i.startedAt - i.enqueuedAt) / 1000).sort((a, b) => a - b);
  const run = infos.map((i) => (i.finishedAt - i.startedAt) / 1000).sort((a, b) => a - b);
  const span = (Math.max(...infos.map((i) => i.finishedAt)) - Math.min(...infos.map((i) => i.enqueuedAt))) / 1000;
  const byWorker = {};
  for (const i of infos) byWorker[i.worker] = (byWorker[i.worker] ?? 0) + 1;
  return {
    jobs: count,
    throughputJobsPerS: round(count / span),
    latencyS: { p50: round(percentile(latency, 50)), p95: round(percentile(latency, 95)), max: round(latency.at(-1)) },
    queueWaitS: { p50: round(percentile(wait, 50)), p95: round(percentile(wait, 95)) },
    runS: { p50: round(percentile(run, 50)), p95: round(percentile(run, 95)) },
    jobsPerWorker: byWorker,
  };
}

const loadBefore = os.loadavg();
const redis = await startTestRedis({});
const requests = demoRequests();
const cases = [];
const memory = [];
let serviceS;
try {
  for (const n of workerCounts) {
    const queue = `bench-${n}-${process.pid}`;
    const workers = Array.from({ length: n }, (_, k) => startWorker(redis.url, queue, `w${k + 1}`));
    const banner = await Promise.all(workers.map((w) => w.ready));
    log(`N=${n}: ${banner[0]}`);
    const producer = await JobProducer.connect({ redis: redis.url, queue });
    try {
      // Warm-up: the first job of a worker compiles wasm kernels. Then one worker's time per job, idle.
      await Promise.all(Array.from({ length: n * requests.length }, (_, i) => producer.enqueue(requests[i % requests.length]).then((id) => producer.result(id))));
      if (serviceS === undefined) {
        const idle = [];
        for (const r of requests.concat(requests)) {
          const t = performance.now();
          await producer.result(await producer.enqueue(r));
          idle.push((performance.now() - t) / 1000);
        }
        idle.sort((a, b) => a - b);
        serviceS = percentile(idle, 50);
        log(`one job on one idle worker: ${round(serviceS)} s (median of ${idle.length}, enqueue to result)`);
      }
      for (const load of rates) {
        const rate = load / serviceS;
        const loadAvg = os.loadavg()[0];
        const result = await runCase(producer, requests, jobsPerCase, rate);
        cases.push({ workers: n, arrivalJobsPerS: round(rate), loadOfOneWorker: load, loadAvg1mAtStart: round(loadAvg, 2), loadAvg1mAtEnd: round(os.loadavg()[0], 2), ...result });
        log(`N=${n} at ${round(rate)} jobs/s: ${result.throughputJobsPerS} jobs/s, latency p50 ${result.latencyS.p50} s, p95 ${result.latencyS.p95} s`);
      }
      memory.push({ workers: n, perWorker: workers.map((w) => memoryMiB(w.child.pid)) });
    } finally {
      await producer.close();
      await stopWorkers(workers);
    }
  }
} finally {
  await redis.stop();
}

const report = {
  date: new Date().toISOString(),
  machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, memGiB: round(os.totalmem() / 2 ** 30, 1), loadAvgBefore: loadBefore.map((x) => round(x, 2)), loadAvgAfter: os.loadavg().map((x) => round(x, 2)) },
  model: 'the default model (mige-world, 64 px, 20 steps), TF.js wasm, one job at a time per worker',
  requests: "the demo's generate, edit and compose requests in turn",
  oneJobOneIdleWorkerS: round(serviceS),
  jobsPerCase,
  cases,
  workerMemory: memory,
  quick,
};
mkdirSync(dirname(out), { recursive: true });
writeTextFileAtomic(out, `${JSON.stringify(report, null, 2)}\n`);
log(`wrote ${out}`);
