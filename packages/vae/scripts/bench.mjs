// pnpm bench: encode and decode of the real-size sd-vae-ft-ema (random weights) on the active
// backend (MIGE_BACKEND overrides), at the image sizes in VAE_BENCH_SIZES (default 256,512).
// Prints time, GFLOP/s (conv and matmul FLOPs counted analytically by vaeFlops) and peak memory
// (RSS, and the wasm heap, which only grows), and writes bench-results/vae.json at the repo root.
// Every size runs once after a 64 px warm-up: a 512 px decode alone is ~2.5 TFLOP.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initBackend, tf } from '@mige/core';
import { SD_VAE_FT_EMA, createAutoencoderKL, vaeFlops } from '@mige/vae';

const sizes = (process.env.VAE_BENCH_SIZES ?? '256,512').split(',').map(Number);
const info = await initBackend();
const backend = tf.backend();
const heapBytes = () => backend.wasm?.HEAPU8?.buffer.byteLength ?? null;
const mb = (bytes) => (bytes === null ? null : Math.round(bytes / 2 ** 20));
const peakRssMB = () => Math.round(process.resourceUsage().maxRSS / 1024);

const t0 = performance.now();
const vae = createAutoencoderKL('sd-vae-ft-ema');
// Random weights, quickly: kernels U(±√(3/fan_in)) keep activations O(1) through the network
// (tf.randomUniform, not the slower JS Rng); GroupNorm scales 1, biases 0.
let seed = 1;
for (const [name, p] of vae.namedParameters()) {
  if (p.rank >= 2) {
    const bound = Math.sqrt(3 / (p.size / p.shape[0]));
    tf.tidy(() => p.assign(tf.randomUniform(p.shape, -bound, bound, 'float32', seed++)));
  } else if (name.endsWith('weight')) {
    tf.tidy(() => p.assign(tf.onesLike(p)));
  }
}
const setupMs = performance.now() - t0;
console.log(`backend ${info.name}; sd-vae-ft-ema built and filled (${(vae.numParameters() / 1e6).toFixed(1)}M parameters) in ${(setupMs / 1000).toFixed(1)} s`);

const timed = (f) => {
  const start = performance.now();
  tf.tidy(() => {
    const out = f();
    out.dataSync(); // waits for the work on every backend (a no-op wait on wasm and cpu)
  });
  return performance.now() - start;
};

const run = (px) => {
  const h = px / vae.downsampleFactor;
  const flops = vaeFlops(SD_VAE_FT_EMA, px, px);
  const image = tf.randomUniform([1, 3, px, px], -1, 1, 'float32', 7);
  const latents = tf.randomNormal([1, 4, h, h], 0, 1, 'float32', 8);
  const encodeMs = timed(() => vae.encode(image).mean);
  const decodeMs = timed(() => vae.decode(latents));
  tf.dispose([image, latents]);
  const phase = (ms, f) => ({ ms: Math.round(ms), gflop: +(f / 1e9).toFixed(1), gflops: +(f / ms / 1e6).toFixed(1) });
  return { px, encode: phase(encodeMs, flops.encode), decode: phase(decodeMs, flops.decode), peakRssMB: peakRssMB(), wasmHeapMB: mb(heapBytes()) };
};

run(64); // warm-up: kernel set-up and first-touch pages
// The plain 2-D matmul rate in this same run: the ceiling a conv-heavy model can approach.
const [a, b] = [tf.randomNormal([1024, 1024]), tf.randomNormal([1024, 1024])];
const mmMs = [];
for (let i = 0; i < 9; i++) mmMs.push(timed(() => tf.matMul(a, b)));
mmMs.sort((x, y) => x - y);
const matmulGflops = (2 * 1024 ** 3) / mmMs[4] / 1e6;
tf.dispose([a, b]);

const results = [];
for (const px of sizes) {
  const r = run(px);
  results.push(r);
  console.log(
    `${px} px: encode ${(r.encode.ms / 1000).toFixed(1)} s (${r.encode.gflop} GFLOP, ${r.encode.gflops} GFLOP/s), ` +
      `decode ${(r.decode.ms / 1000).toFixed(1)} s (${r.decode.gflop} GFLOP, ${r.decode.gflops} GFLOP/s); ` +
      `peak RSS ${r.peakRssMB} MB, wasm heap ${r.wasmHeapMB ?? '-'} MB`,
  );
}
console.log(`matmul 1024^3: ${mmMs[4].toFixed(1)} ms, ${matmulGflops.toFixed(1)} GFLOP/s`);

const result = {
  benchmark: 'sd-vae-ft-ema (AutoencoderKL, random weights) encode and decode, batch 1, one run per size after a 64 px warm-up',
  backend: info.name,
  date: new Date().toISOString(),
  machine: { cpu: cpus()[0]?.model, cores: cpus().length, node: process.version },
  parameters: vae.numParameters(),
  setupMs: Math.round(setupMs),
  flopsCounted: 'conv and matmul multiply-adds × 2 (vaeFlops); GroupNorm, SiLU, softmax and adds are not counted',
  matmul1024: { ms: +mmMs[4].toFixed(1), gflops: +matmulGflops.toFixed(1) },
  sizes: results,
  peakMemory: { rssMB: peakRssMB(), wasmHeapMB: mb(heapBytes()) },
};
const out = join(dirname(fileURLToPath(import.meta.url)), '../../../bench-results/vae.json');
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out + '.tmp', JSON.stringify(result, null, 2) + '\n');
renameSync(out + '.tmp', out);
console.log(`wrote ${out}`);
vae.dispose();
