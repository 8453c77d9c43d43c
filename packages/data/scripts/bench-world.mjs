// Times the synthetic world: 10k training examples at 64 px (generation only, no PNG encoding).
// Run: npx tsx scripts/bench-world.mjs [count] [size]
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { streamExamples, WORLD_TASKS, writeDataset } from '../src/world/index.ts';

const count = Number(process.argv[2] ?? 10_000);
const size = Number(process.argv[3] ?? 64);
const out = join(dirname(fileURLToPath(import.meta.url)), '../../../bench-results/data-world.json');

// Warm up the JIT so the timing is of steady-state generation.
for (const _ of streamExamples({ seed: 1, count: 200, size })) void _;

const perTask = Object.fromEntries(WORLD_TASKS.map((t) => [t, 0]));
let pixels = 0;
const t0 = performance.now();
for (const e of streamExamples({ seed: 0, count, size })) {
  perTask[e.task] += 1;
  pixels += e.target.width * e.target.height * (1 + e.entities.length);
}
const seconds = (performance.now() - t0) / 1000;

// Writing to disk is dominated by PNG encoding (sharp); time a smaller set and extrapolate.
const writeCount = Math.min(1000, count);
const dir = await mkdtemp(join(tmpdir(), 'mige-world-bench-'));
const t1 = performance.now();
await writeDataset(dir, streamExamples({ seed: 0, count: writeCount, size }));
const writeSeconds = (performance.now() - t1) / 1000;
await rm(dir, { recursive: true, force: true });

const result = {
  bench: 'data-world',
  examples: count,
  size,
  seconds: Number(seconds.toFixed(3)),
  examplesPerSecond: Math.round(count / seconds),
  writeExamples: writeCount,
  writeSeconds: Number(writeSeconds.toFixed(3)),
  writeExamplesPerSecond: Math.round(writeCount / writeSeconds),
  imagesRendered: pixels / (size * size),
  perTask,
  node: process.version,
  cpus: cpus().length,
  date: new Date().toISOString(),
};
console.log(JSON.stringify(result, null, 2));
await mkdir(dirname(out), { recursive: true });
const temp = `${out}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
await writeFile(temp, `${JSON.stringify(result, null, 2)}\n`);
await rename(temp, out);
