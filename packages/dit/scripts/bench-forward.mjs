// One forward benchmark in a fresh process: `node bench-forward.mjs tiny|xl`. Builds the model
// (XL with random weights filled by tfjs kernels, not the JS Rng), times forward passes at batch 1
// with a full-length caption (half of it valid) and reports time, GFLOP/s and peak memory.
import { nn, tf } from '@mige/core';
import { createBackbone, forwardFlops, MIGE_TINY, MIGE_XL_2 } from '@mige/dit';
import { BACKEND, emitResult, memory, startBackend } from './bench-common.mjs';

const which = process.argv[2];
const config = { tiny: MIGE_TINY, xl: MIGE_XL_2 }[which];
if (!config) throw new Error(`usage: bench-forward.mjs tiny|xl (got ${which})`);
const runs = which === 'xl' ? 2 : 100;

await startBackend();
const t0 = performance.now();
const backbone = nn.withoutInit(() => createBackbone(config));
const buildMs = performance.now() - t0;
// Random weights scaled like a trained model's (std 1/√fan_in), so activations stay O(1).
for (const [, p] of backbone.module.namedParameters()) {
  const fanIn = p.rank >= 2 ? p.shape.slice(1).reduce((a, b) => a * b, 1) : 1;
  tf.tidy(() => p.assign(tf.randomNormal(p.shape, 0, p.rank >= 2 ? 1 / Math.sqrt(fanIn) : 0.02, 'float32', 1)));
}
const fillMs = performance.now() - t0 - buildMs;
const afterBuild = memory();

const [b, l, h] = [1, config.modelMaxLength, config.inputSize];
const valid = Math.ceil(l / 2);
const input = {
  x: tf.randomNormal([b, 4, h, h]),
  cond: tf.randomNormal([b, 4, h, h]),
  t: tf.tensor1d([500]),
  y: tf.randomNormal([b, l, config.captionChannels], 0, 0.1),
  mask: tf.tensor2d(Array.from({ length: l }, (_, j) => (j < valid ? 1 : 0)), [b, l]),
};
const flops = forwardFlops(config, b, l);
const samples = [];
let error = null;
try {
  for (let i = 0; i < runs; i++) {
    const s = performance.now();
    // Reading one value back waits for the result without timing a large copy out of the heap.
    tf.tidy(() => tf.sum(backbone.forward(input).eps).dataSync());
    samples.push(+(performance.now() - s).toFixed(1));
    if (which === 'xl') process.stderr.write(`  xl forward ${i + 1}/${runs}: ${samples[i]} ms\n`);
  }
} catch (e) {
  error = String(e?.message ?? e);
}
// The first run includes first-touch page faults and operator set-up; the rest are steady state.
const steady = samples.length > 1 ? samples.slice(1) : samples;
const sorted = [...steady].sort((x, y) => x - y);
const median = sorted[Math.floor(sorted.length / 2)] ?? null;
emitResult({
  model: which === 'xl' ? 'MIGE_XL_2' : 'MIGE_TINY',
  backend: BACKEND,
  config,
  batch: b,
  captionLength: l,
  validTokens: valid,
  parameters: backbone.module.numParameters(),
  weightBytes: backbone.module.numParameters() * 4,
  buildMs: +buildMs.toFixed(0),
  fillMs: +fillMs.toFixed(0),
  forward: {
    flops,
    samplesMs: samples,
    firstMs: samples[0] ?? null,
    medianMs: median,
    minMs: sorted[0] ?? null,
    gflops: median ? +(flops / median / 1e6).toFixed(2) : null,
  },
  memoryAfterBuild: afterBuild,
  memoryPeak: memory(),
  error,
});
