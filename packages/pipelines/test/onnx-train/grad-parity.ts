import { addGradients, inferShapes, OnnxBuilder, tf, type OnnxParamInfo } from '@mige/core';
import { firstNonFinite } from '@mige/core/testing';
import * as ort from 'onnxruntime-node';

/**
 * Gradient parity of a module's ONNX emitter (differentiated by core's addGradients, run in ONNX
 * Runtime) against TF.js autodiff through the module itself, on the same weights and inputs:
 * Σ c·f(x; θ) for a random cotangent c, differentiated w.r.t. every parameter and the float
 * inputs named in `diffInputs`.
 */
export interface ModuleCase {
  /** The module's parameters under the names its emitter uses. */
  params: readonly (readonly [string, tf.Variable])[];
  /** Graph inputs (float32 unless int64 is given) and their values. */
  inputs: Record<string, tf.Tensor>;
  /** Inputs whose gradient is compared too. */
  diffInputs?: readonly string[];
  emit: (g: OnnxBuilder, inputs: Record<string, string>) => string;
  forward: (inputs: Record<string, tf.Tensor>) => tf.Tensor;
  /** Graph inputs to declare as int64. */
  int64?: readonly string[];
  /**
   * Parameters whose gradient is zero in exact arithmetic (a key bias under softmax's shift
   * invariance, a bias right before a per-channel norm): both sides must then be within 1e-6 of
   * the largest gradient of the set, since their float32 values are only the rounding noise of
   * terms that cancel. Every other tensor is held to the relative bound.
   */
  structurallyZero?: RegExp;
  /** The cotangent c (default: standard normal draws). */
  cotangent?: Float32Array;
}

export interface GradComparison {
  /** Per compared tensor: max |onnx − tf| / max |tf| (structurally zero ones: see `zero`). */
  rel: Map<string, number>;
  worst: number;
  worstName: string;
  /** Per structurally zero tensor: max(|onnx|, |tf|) / the largest |tf| of the set. */
  zero: Map<string, number>;
  worstZero: number;
}

/**
 * The relative difference of two gradient sets: per tensor max|a − b| / max|b|. Tensors named by
 * `structurallyZero` (zero in exact arithmetic) are measured instead by how far from zero either
 * side is, relative to the largest gradient of the whole set.
 */
export function compareGradients(actual: ReadonlyMap<string, ArrayLike<number>>, expected: ReadonlyMap<string, ArrayLike<number>>, structurallyZero?: RegExp): GradComparison {
  let global = 0;
  for (const b of expected.values()) for (let i = 0; i < b.length; i++) global = Math.max(global, Math.abs(b[i] as number));
  const rel = new Map<string, number>();
  const zero = new Map<string, number>();
  for (const [name, b] of expected) {
    const a = actual.get(name);
    if (!a || a.length !== b.length || firstNonFinite(a) || firstNonFinite(b)) {
      rel.set(name, NaN);
      continue;
    }
    let d = 0, s = 0, sa = 0;
    for (let i = 0; i < b.length; i++) {
      d = Math.max(d, Math.abs((a[i] as number) - (b[i] as number)));
      s = Math.max(s, Math.abs(b[i] as number));
      sa = Math.max(sa, Math.abs(a[i] as number));
    }
    if (structurallyZero?.test(name)) zero.set(name, Math.max(s, sa) / global);
    else rel.set(name, d / Math.max(s, Number.MIN_VALUE));
  }
  for (const name of actual.keys()) if (!expected.has(name)) rel.set(name, NaN);
  const worstOf = (m: Map<string, number>): [number, string] => {
    let w = 0, n = '';
    for (const [k, v] of m) if (!(v <= w)) [w, n] = [v, k];
    return [w, n];
  };
  const [worst, worstName] = worstOf(rel);
  return { rel, worst, worstName, zero, worstZero: worstOf(zero)[0] };
}

export interface ModuleGraph {
  bytes: Uint8Array;
  params: OnnxParamInfo[];
  /** Gradient output per compared name (param names, and `input:<name>`). */
  gradOutputs: Map<string, string>;
  yShape: number[];
}

/** The case's graph: y, and the gradients of Σ cotangent·y. */
export function buildModuleGraph(c: ModuleCase): ModuleGraph {
  const g = new OnnxBuilder({ name: 'module', params: { mode: 'input' } });
  const x = Object.fromEntries(Object.entries(c.inputs).map(([n, t]) => [n, g.input(n, t.shape, c.int64?.includes(n) ? 'int64' : 'float32')]));
  const y = c.emit(g, x);
  const yShape = inferShapes(g).get(y)?.shape as number[];
  const loss = g.reduceSum(g.mul(y, g.input('cotangent', yShape)), [], false);
  const params = g.paramInfos();
  const diff = c.diffInputs ?? [];
  const grads = addGradients(g, { loss, wrt: [...params.map((p) => p.value), ...diff.map((n) => x[n] as string)] });
  g.output(y, '__y', yShape);
  const gradOutputs = new Map<string, string>();
  for (const p of params) {
    const d = grads.get(p.value);
    if (!d) continue;
    g.output(d, `grad.${p.name}`, [...p.shape]);
    gradOutputs.set(p.name, `grad.${p.name}`);
  }
  for (const n of diff) {
    const d = grads.get(x[n] as string);
    if (!d) continue;
    g.output(d, `grad.input.${n}`, c.inputs[n]?.shape as number[]);
    gradOutputs.set(`input:${n}`, `grad.input.${n}`);
  }
  return { bytes: g.serialize(), params, gradOutputs, yShape };
}

function feedsOf(c: ModuleCase, params: readonly OnnxParamInfo[], cotangent: Float32Array, yShape: number[]): Record<string, ort.Tensor> {
  const byName = new Map(c.params.map(([n, p]) => [n, p]));
  const feeds: Record<string, ort.Tensor> = { cotangent: new ort.Tensor('float32', cotangent, yShape) };
  for (const [n, t] of Object.entries(c.inputs)) {
    feeds[n] = c.int64?.includes(n) ? new ort.Tensor('int64', BigInt64Array.from(t.dataSync(), (v) => BigInt(v)), t.shape) : new ort.Tensor('float32', Float32Array.from(t.dataSync()), t.shape);
  }
  for (const p of params) {
    const v = byName.get(p.name);
    if (!v) throw new Error(`the emitter uses '${p.name}', which the case does not list`);
    feeds[p.name] = new ort.Tensor('float32', Float32Array.from(v.dataSync()), [...p.shape]);
  }
  return feeds;
}

function cotangentFor(shape: readonly number[], seed: number): Float32Array {
  return tf.tidy(() => Float32Array.from(tf.randomNormal([...shape], 0, 1, 'float32', seed).dataSync()));
}

/** Runs both sides; returns the comparison of the output and every gradient. */
export async function moduleGradParity(c: ModuleCase, seed = 11): Promise<GradComparison & { outputRel: number }> {
  const graph = buildModuleGraph(c);
  const cot = c.cotangent ?? cotangentFor(graph.yShape, seed);
  const session = await ort.InferenceSession.create(graph.bytes);
  const out = await session.run(feedsOf(c, graph.params, cot, graph.yShape));
  await session.release();
  const onnxGrads = new Map<string, Float32Array>();
  for (const [name, output] of graph.gradOutputs) onnxGrads.set(name, out[output]?.data as Float32Array);

  const diff = c.diffInputs ?? [];
  const inputVars = Object.fromEntries(diff.map((n) => [n, tf.variable(c.inputs[n] as tf.Tensor, true, `input_${n}_${seed}`)]));
  const vars = [...c.params.map(([, p]) => p), ...Object.values(inputVars)];
  const names = new Map<string, string>([...c.params.map(([n, p]) => [p.name, n] as const), ...diff.map((n) => [(inputVars[n] as tf.Variable).name, `input:${n}`] as const)]);
  const cotT = tf.tensor(cot, graph.yShape);
  let yRef: Float32Array = new Float32Array();
  const { grads } = tf.variableGrads(() => {
    const y = c.forward({ ...c.inputs, ...inputVars });
    yRef = Float32Array.from(y.dataSync());
    return tf.sum(tf.mul(y, cotT)) as tf.Scalar;
  }, vars);
  const tfGrads = new Map<string, Float32Array>();
  for (const [v, g] of Object.entries(grads)) tfGrads.set(names.get(v) as string, Float32Array.from(g.dataSync()));
  tf.dispose([cotT, ...Object.values(grads), ...Object.values(inputVars)]);
  const outputRel = compareGradients(new Map([['y', out.__y?.data as Float32Array]]), new Map([['y', yRef]])).worst;
  return { ...compareGradients(onnxGrads, tfGrads, c.structurallyZero), outputRel };
}
