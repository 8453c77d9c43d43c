// pnpm bench for @mige/dit: forward time, GFLOP/s and peak memory of MIGE_TINY and MIGE_XL_2 (random
// weights, 64x64 latents = 512 px, batch 1) on the active backend (MIGE_BACKEND, default wasm), and
// the peak memory of streaming XL weights from a safetensors file. Each measurement runs in a fresh
// process so its peak RSS is its own. Writes bench-results/dit.json at the repo root atomically.
import { spawnSync } from 'node:child_process';
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BACKEND, gib } from './bench-common.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, '../../../bench-results/dit.json');

function child(script, ...args) {
  const started = performance.now();
  const r = spawnSync(process.execPath, [join(here, script), ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 26 });
  const line = r.stdout?.split('\n').find((l) => l.startsWith('RESULT '));
  if (!line) return { error: `${script} ${args.join(' ')} exited with ${r.status ?? r.signal} and no result`, stdout: r.stdout?.slice(-2000) };
  return { ...JSON.parse(line.slice(7)), wallMs: Math.round(performance.now() - started) };
}

const result = {
  benchmark: '@mige/dit forward and weight loading',
  backend: BACKEND,
  date: new Date().toISOString(),
  machine: { cpu: cpus()[0]?.model, cores: cpus().length, node: process.version },
  forward: {},
  load: {},
};

console.log(`backend ${BACKEND}`);
result.forward.tiny = child('bench-forward.mjs', 'tiny');
const t = result.forward.tiny;
console.log(`MIGE_TINY forward: median ${t.forward?.medianMs} ms, ${t.forward?.gflops} GFLOP/s, peak RSS ${gib(t.memoryPeak?.peakRssBytes)}, wasm heap ${gib(t.memoryPeak?.wasmHeapBytes)}`);
result.forward.xl = child('bench-forward.mjs', 'xl');
const x = result.forward.xl;
console.log(
  `MIGE_XL_2 forward: ${x.error ? `FAILED (${x.error}) ` : ''}first ${x.forward?.firstMs} ms, median ${x.forward?.medianMs} ms, ${x.forward?.gflops} GFLOP/s ` +
    `(${(x.forward?.flops / 1e12).toFixed(2)} TFLOP), weights ${gib(x.weightBytes)}, peak RSS ${gib(x.memoryPeak?.peakRssBytes)}, wasm heap ${gib(x.memoryPeak?.wasmHeapBytes)}`,
);

const file = join(tmpdir(), `mige-dit-xl-${process.pid}.safetensors`);
try {
  result.load.write = child('bench-load.mjs', 'write', file);
  result.load.stream = child('bench-load.mjs', 'load', file);
} finally {
  rmSync(file, { force: true });
}
const l = result.load.stream;
console.log(
  `MIGE_XL_2 load: ${gib(l.weightBytes)} of weights in ${l.loadMs} ms, peak RSS ${gib(l.memoryPeak?.peakRssBytes)} = ${l.peakRssOverWeights}x the weights ` +
    `(wasm heap ${gib(l.memoryPeak?.wasmHeapBytes)} = ${l.peakWasmHeapOverWeights}x), values match the file: ${l.loadedValuesMatchFile}`,
);

mkdirSync(dirname(out), { recursive: true });
writeFileSync(`${out}.tmp`, JSON.stringify(result, null, 2) + '\n');
renameSync(`${out}.tmp`, out);
console.log(`wrote ${out}`);
