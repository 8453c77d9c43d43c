/** Helpers for running one computation on the cpu and wasm backends and comparing the results. */
import * as tf from '@tensorflow/tfjs-core';

export interface Result {
  shape: number[];
  dtype: tf.DataType;
  values: Float64Array;
}

/** Seeded uniform [-1, 1) values (mulberry32), so failures reproduce. */
export function randomValues(n: number, seed: number): Float32Array {
  let a = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  }
  return out;
}

export function randomTensor(shape: number[], seed: number, dtype: 'float32' | 'int32' | 'bool' = 'float32'): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const v = randomValues(n, seed);
  if (dtype === 'float32') return tf.tensor(v, shape, 'float32');
  if (dtype === 'int32') return tf.tensor(Int32Array.from(v, (x) => Math.floor(x * 1000)), shape, 'int32');
  return tf.tensor(Uint8Array.from(v, (x) => (x > 0 ? 1 : 0)), shape, 'bool');
}

/** Runs `fn` on `backend` and reads every output back. */
export async function runOn(backend: 'cpu' | 'wasm', fn: () => tf.Tensor | tf.Tensor[]): Promise<Result[]> {
  await tf.setBackend(backend);
  await tf.ready();
  const outs = tf.tidy(() => {
    const r = fn();
    return Array.isArray(r) ? r : [r];
  });
  const results: Result[] = [];
  for (const t of outs) {
    results.push({ shape: t.shape.slice(), dtype: t.dtype, values: Float64Array.from(await t.data()) });
  }
  tf.dispose(outs);
  return results;
}

/** Largest |a - b| and largest |b|. */
export function diff(a: Result, b: Result): { maxAbs: number; scale: number } {
  let maxAbs = 0;
  let scale = 0;
  for (let i = 0; i < a.values.length; i++) {
    const x = a.values[i]!;
    const y = b.values[i]!;
    const d = x === y ? 0 : Math.abs(x - y);
    maxAbs = Math.max(maxAbs, Number.isNaN(d) ? Infinity : d);
    scale = Math.max(scale, Math.abs(y));
  }
  return { maxAbs, scale };
}

/** Runs on both backends; returns [wasm, cpu] results after checking shapes and dtypes agree. */
export async function both(fn: () => tf.Tensor | tf.Tensor[]): Promise<[Result[], Result[]]> {
  const cpu = await runOn('cpu', fn);
  const wasm = await runOn('wasm', fn);
  if (cpu.length !== wasm.length) throw new Error(`output count ${wasm.length} (wasm) vs ${cpu.length} (cpu)`);
  cpu.forEach((c, i) => {
    const w = wasm[i]!;
    if (c.shape.join() !== w.shape.join()) throw new Error(`output ${i} shape [${w.shape}] (wasm) vs [${c.shape}] (cpu)`);
    if (c.dtype !== w.dtype) throw new Error(`output ${i} dtype ${w.dtype} (wasm) vs ${c.dtype} (cpu)`);
  });
  return [wasm, cpu];
}

/** Max abs difference between wasm and cpu over all outputs (0 means bit-identical values). */
export async function maxDiffVsCpu(fn: () => tf.Tensor | tf.Tensor[]): Promise<number> {
  const [wasm, cpu] = await both(fn);
  return Math.max(0, ...wasm.map((w, i) => diff(w, cpu[i]!).maxAbs));
}

/** Worst relative difference between wasm and cpu: max |w - c| / max |c| per output. */
export async function relDiffVsCpu(fn: () => tf.Tensor | tf.Tensor[]): Promise<number> {
  const [wasm, cpu] = await both(fn);
  return Math.max(
    0,
    ...wasm.map((w, i) => {
      const { maxAbs, scale } = diff(w, cpu[i]!);
      return maxAbs / Math.max(scale, 1e-30);
    }),
  );
}
