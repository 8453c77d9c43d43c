import * as tf from '@tensorflow/tfjs-core';
import * as ort from 'onnxruntime-node';
import { addGradients, inferShapes, OnnxBuilder } from '../../src/onnx/index.js';
import { Rng } from '../../src/rng.js';
import { firstNonFinite, maxAbsDiff } from '../../src/testing/index.js';

/**
 * Gradient parity of one ONNX construction against TF.js autodiff: the same random inputs and a
 * random cotangent c go through `build` (ONNX, differentiated by addGradients, run in ONNX
 * Runtime) and `reference` (tf ops, differentiated by tf.grads) as Σ c·f(x). Returns the worst
 * relative difference max|a − b| / max|b| over the output and every input gradient.
 */
export interface GradCase {
  inputs: Record<string, number[]>;
  build: (g: OnnxBuilder, x: Record<string, string>) => string;
  reference: (x: Record<string, tf.Tensor>) => tf.Tensor;
  /** Inputs with no gradient (e.g. a Where condition given as float 0/1). */
  constant?: string[];
  /** Values drawn for the inputs: 'normal' (default), 'positive' (in [0.5, 1.5]) or 'binary'. */
  draw?: Record<string, 'normal' | 'positive' | 'binary'>;
  seed?: number;
}

export interface GradReport {
  /** Worst relative difference per compared value: 'output' and 'grad.<input>'. */
  rel: Record<string, number>;
  worst: number;
}

function draw(rng: Rng, n: number, kind: 'normal' | 'positive' | 'binary'): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    if (kind === 'normal') out[i] = rng.normal();
    else if (kind === 'positive') out[i] = 0.5 + rng.uniform();
    else out[i] = rng.uniform() < 0.5 ? 0 : 1;
  }
  return out;
}

export function relDiff(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (firstNonFinite(actual) || firstNonFinite(expected)) return NaN;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i] as number));
  const d = maxAbsDiff(actual, expected);
  return scale === 0 ? d : d / scale;
}

export async function gradParity(c: GradCase): Promise<GradReport> {
  const rng = new Rng(c.seed ?? 7);
  const names = Object.keys(c.inputs);
  const data = new Map(names.map((n) => [n, draw(rng.fork(n), (c.inputs[n] as number[]).reduce((a, b) => a * b, 1), c.draw?.[n] ?? 'normal')]));
  const g = new OnnxBuilder({ name: 'grad-case', params: { mode: 'input' } });
  const x = Object.fromEntries(names.map((n) => [n, g.input(n, c.inputs[n] as number[])]));
  const y = c.build(g, x);
  const yShape = inferShapes(g).get(y)?.shape as number[];
  const cot = g.input('cotangent', yShape);
  const loss = g.reduceSum(g.mul(y, cot), [], false);
  const wrt = names.filter((n) => !c.constant?.includes(n));
  const grads = addGradients(g, { loss, wrt: wrt.map((n) => x[n] as string) });
  g.output(y, 'y', yShape);
  for (const n of wrt) {
    const d = grads.get(x[n] as string);
    if (d) g.output(d, `grad.${n}`, c.inputs[n] as number[]);
  }
  const session = await ort.InferenceSession.create(g.serialize());
  const cotData = draw(rng.fork('cot'), yShape.reduce((a, b) => a * b, 1), 'normal');
  const feeds: Record<string, ort.Tensor> = { cotangent: new ort.Tensor('float32', cotData, yShape) };
  for (const n of names) feeds[n] = new ort.Tensor('float32', data.get(n) as Float32Array, c.inputs[n] as number[]);
  const out = await session.run(feeds);
  await session.release();

  const tx = Object.fromEntries(names.map((n) => [n, tf.tensor(data.get(n) as Float32Array, c.inputs[n] as number[])]));
  const tc = tf.tensor(cotData, yShape);
  const rel: Record<string, number> = {};
  const ty = c.reference(tx);
  rel.output = relDiff(out.y?.data as Float32Array, ty.dataSync());
  const f = (...xs: tf.Tensor[]): tf.Tensor => {
    const all = { ...tx, ...Object.fromEntries(wrt.map((n, i) => [n, xs[i] as tf.Tensor])) };
    return tf.sum(tf.mul(c.reference(all), tc));
  };
  const tg = tf.grads(f)(wrt.map((n) => tx[n] as tf.Tensor));
  wrt.forEach((n, i) => {
    const o = out[`grad.${n}`];
    if (!o) throw new Error(`no ONNX gradient for '${n}'`);
    rel[`grad.${n}`] = relDiff(o.data as Float32Array, (tg[i] as tf.Tensor).dataSync());
  });
  tf.dispose([...Object.values(tx), tc, ty, ...tg]);
  const worst = Object.values(rel).reduce((m, v) => (Number.isNaN(v) || Number.isNaN(m) ? NaN : Math.max(m, v)), 0);
  return { rel, worst };
}
