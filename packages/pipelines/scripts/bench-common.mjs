/**
 * What the pipelines benchmarks share: the machine's single-precision matmul peak measured by
 * ONNX Runtime (a chain of n×n MatMuls built with core's OnnxBuilder), medians, and a
 * description of the machine. Scripts only; nothing here is part of the package.
 */
import os from 'node:os';
import { OnnxBuilder, Rng, tf } from '@mige/core';
import * as ort from 'onnxruntime-node';

export const gflops = (flop, ms) => flop / (ms * 1e6);

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** Median wall time (ms) of `iterations` runs of fn after one warm-up run. */
export async function timeIt(fn, iterations) {
  await fn();
  const ms = [];
  for (let i = 0; i < iterations; i++) {
    const t = performance.now();
    await fn();
    ms.push(performance.now() - t);
  }
  return { medianMs: median(ms), runsMs: ms };
}

/** ORT's MatMul rate on a chain of `chain` n×n products with `threads` intra-op threads. */
export async function matmulPeak(threads, { n = 1024, chain = 8, iterations = 3 } = {}) {
  const probe = await openMatmulProbe(threads, { n, chain });
  try {
    return await probe.measure(iterations);
  } finally {
    await probe.release();
  }
}

/**
 * The same MatMul chain kept open, to measure the rate again and again (interleaved with other
 * work, so a shared machine's load touches both alike): `measure(iterations)` as matmulPeak.
 */
export async function openMatmulProbe(threads, { n = 1024, chain = 8 } = {}) {
  const rng = new Rng(`peak-${n}`);
  const g = new OnnxBuilder({ name: 'matmul-peak' });
  let x = g.input('a', [n, n]);
  for (let i = 0; i < chain; i++) x = g.matMul(x, g.weight(`b${i}`, rng.randn([n, n], 0, 1 / Math.sqrt(n))));
  g.output(x, 'c', [n, n]);
  const session = await ort.InferenceSession.create(g.serialize(), { intraOpNumThreads: threads, interOpNumThreads: 1 });
  const a = new ort.Tensor('float32', Float32Array.from({ length: n * n }, () => rng.uniform() - 0.5), [n, n]);
  return {
    async measure(iterations = 3) {
      const t = await timeIt(() => session.run({ a }), iterations);
      return { threads, n, chain, ...t, gflops: gflops(2 * n ** 3 * chain, t.medianMs) };
    },
    release: () => session.release(),
  };
}

export function machine() {
  const cpus = os.cpus();
  return {
    cpus: [...new Set(cpus.map((c) => c.model))],
    cpuCount: cpus.length,
    totalMemGiB: os.totalmem() / 2 ** 30,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    node: process.version,
    onnxruntime: ort.env.versions?.common ?? 'unknown',
    tfjs: tf.version_core,
    loadAverage: os.loadavg(),
  };
}
