// pnpm bench: one transformer block (hidden 384, 6 heads, 256 tokens, batch 4; LN, qkv,
// softmax attention, proj, LN, 4x tanh-GELU MLP) forward and forward+backward on the wasm
// backend, as in docs/perf.md. Writes bench-results/core-block.json at the repo root.
// Targets: >= 25 GFLOP/s forward and >= 18 GFLOP/s forward+backward.
import { mkdirSync, writeFileSync, renameSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, nn } from '@mige/core';

const backend = process.env.MIGE_BACKEND ?? 'wasm';
await initBackend({ backend });
const [B, N, C, H] = [4, 256, 384, 6];
const D = C / H;

class Block extends nn.Module {
  norm1 = this.module('norm1', new nn.LayerNorm(C, 1e-6));
  qkv = this.module('qkv', new nn.Linear(C, 3 * C));
  proj = this.module('proj', new nn.Linear(C, C));
  norm2 = this.module('norm2', new nn.LayerNorm(C, 1e-6));
  fc1 = this.module('fc1', new nn.Linear(C, 4 * C));
  fc2 = this.module('fc2', new nn.Linear(4 * C, C));
  forward(x) {
    const heads = (t) => tf.reshape(tf.transpose(tf.reshape(t, [B, N, H, D]), [0, 2, 1, 3]), [B * H, N, D]);
    const [q, k, v] = tf.split(this.qkv.forward(this.norm1.forward(x)), 3, -1).map(heads);
    const a = nn.attention(q, k, v, 1 / Math.sqrt(D));
    const merged = tf.reshape(tf.transpose(tf.reshape(a, [B, H, N, D]), [0, 2, 1, 3]), [B, N, C]);
    const x1 = tf.add(x, this.proj.forward(merged));
    return tf.add(x1, this.fc2.forward(nn.geluTanh(this.fc1.forward(this.norm2.forward(x1)))));
  }
}

// FLOPs of the matmuls (2·m·n·k): qkv, scores, attn·v, proj, fc1, fc2.
const T = B * N;
const fwdFlops = 2 * T * C * 3 * C + 2 * 2 * B * H * N * N * D + 2 * T * C * C + 2 * 2 * T * C * 4 * C;
const fwdBwdFlops = 3 * fwdFlops;

const block = new Block();
const x = tf.randomNormal([B, N, C]);
const vars = block.parameters();
const median = (f, n) => {
  f(); // warm-up: first-touch pages and kernel set-up
  const ts = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    f();
    ts.push(performance.now() - t0);
  }
  const samples = ts.map((t) => +t.toFixed(1));
  ts.sort((a, b) => a - b);
  return { median: ts[Math.floor(n / 2)], min: ts[0], max: ts[n - 1], samples };
};
// Reading back a scalar keeps the timing about compute, not the first-touch cost of copying a
// fresh 1.5 MB output out of the wasm heap.
block.eval();
// The machine's plain 2-D matmul rate in this same run: the ceiling the block can approach, so
// a noisy shared machine shows up in both numbers.
const a = tf.randomNormal([1024, 1024]);
const b = tf.randomNormal([1024, 1024]);
const mm = median(() => tf.tidy(() => tf.sum(tf.matMul(a, b)).dataSync()), 15);
const mmGflops = (2 * 1024 ** 3) / mm.median / 1e6;

const fwd = median(() => tf.tidy(() => tf.sum(block.forward(x)).dataSync()), 15);
block.train();
const bwd = median(() => tf.tidy(() => {
  const { value, grads } = tf.variableGrads(() => tf.sum(block.forward(x)), vars);
  value.dataSync();
  tf.addN(Object.values(grads).map((g) => tf.sum(g))).dataSync();
}), 9);

const result = {
  benchmark: 'transformer block, hidden 384, 6 heads, 256 tokens, batch 4',
  backend,
  date: new Date().toISOString(),
  machine: { cpu: cpus()[0]?.model, cores: cpus().length, node: process.version },
  forward: { ms: fwd, gflops: fwdFlops / fwd.median / 1e6, target: 25 },
  forwardBackward: { ms: bwd, gflops: fwdBwdFlops / bwd.median / 1e6, target: 18 },
  flops: { forward: fwdFlops, forwardBackward: fwdBwdFlops },
  matmul1024: { ms: mm, gflops: mmGflops },
};
result.forward.fractionOfMatmul = result.forward.gflops / mmGflops;
result.forwardBackward.fractionOfMatmul = result.forwardBackward.gflops / mmGflops;
const out = join(dirname(fileURLToPath(import.meta.url)), '../../../bench-results/core-block.json');
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out + '.tmp', JSON.stringify(result, null, 2) + '\n');
renameSync(out + '.tmp', out);
const f = (r) =>
  `${r.ms.median.toFixed(1)} ms (min ${r.ms.min.toFixed(1)}), ${r.gflops.toFixed(1)} GFLOP/s (target ${r.target}), ` +
  `${(100 * r.fractionOfMatmul).toFixed(0)}% of this run's matmul rate`;
console.log(`matmul 1024^3:          ${mm.median.toFixed(1)} ms, ${mmGflops.toFixed(1)} GFLOP/s`);
console.log(`block forward:          ${f(result.forward)}`);
console.log(`block forward+backward: ${f(result.forwardBackward)}`);
console.log(`wrote ${out}`);

// Image resampling speed (PIL-exact resize in plain JS), reported alongside the block.
{
  const { resizeShortSide } = await import('@mige/core');
  const data = new Uint8Array(1024 * 768 * 3);
  for (let i = 0; i < data.length; i++) data[i] = (i * 2654435761) >>> 24;
  const img = { width: 1024, height: 768, data };
  for (const filter of ['bilinear', 'bicubic']) {
    const r = median(() => resizeShortSide(img, 512, filter), 7);
    console.log(`resize 1024x768 -> 512 short side, ${filter}: ${r.median.toFixed(1)} ms`);
  }
}
