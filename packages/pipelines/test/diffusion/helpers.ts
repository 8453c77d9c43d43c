import { tf, type Latents } from '@mige/core';
import { NoiseScheduleVP, type NoiseModel } from '../../src/diffusion/index.js';

export { expectClose, maxAbsDiff, readFixture, TEST_BACKENDS, useBackend } from '@mige/core/testing';

/** A fixture tensor that must exist. */
export function get<T extends tf.Tensor = tf.Tensor>(io: Map<string, tf.Tensor>, key: string): T {
  const t = io.get(key);
  if (!t) throw new Error(`fixture tensor ${key} is missing`);
  return t as T;
}

const TOY_C = [0.1, -0.2, 0.3, -0.4];

/**
 * The fixture's toy network (fixtures/reference/README.md §8) on a batch of k classifier-free
 * chunks of `chunk` rows: eps = 0.9·x + 0.3·tanh(0.5·x + 0.001·t + C[c] + 0.25·branch(row)),
 * branch(row) = ⌊row / chunk⌋.
 */
export function toyNetwork(chunk: number): (x: Latents, t: number) => Latents {
  return (x, t) => tf.tidy(() => {
    const [rows, channels] = x.shape;
    const bias = new Float32Array(rows * channels);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < channels; c++) bias[r * channels + c] = (TOY_C[c] as number) + 0.25 * Math.floor(r / chunk);
    }
    const inner = tf.add(tf.add(tf.mul(x, 0.5), Math.fround(Math.fround(0.001) * t)), tf.tensor4d(bias, [rows, channels, 1, 1]));
    return tf.add(tf.mul(x, 0.9), tf.mul(tf.tanh(inner), 0.3));
  });
}

/**
 * The exact ε of Gaussian data x0 ~ N(mu, s²) (elementwise) under the VP schedule:
 * ε(x, t) = σ·(x − α·mu)/(α²s² + σ²). With s = 0 the data is the point mass mu. `time` maps
 * the model time to continuous t (DPM-Solver: t = m/1000 + 1/1000, the same for integer
 * steps of the discrete schedule since t_n = (n + 1)/N).
 */
export function gaussianDataModel(mu: Latents, s: number, ns = new NoiseScheduleVP()): NoiseModel {
  return (x, modelTime) => {
    const t = modelTime / 1000 + 1 / ns.totalN;
    const a = Math.exp(ns.marginalLogMeanCoeff(t));
    const sig = Math.sqrt(1 - a * a);
    return tf.tidy(() => tf.mul(tf.sub(x, tf.mul(mu, a)), sig / (a * a * s * s + sig * sig)));
  };
}

/**
 * The exact probability-flow ODE solution for that Gaussian data from x_T at t = 1 to t_end:
 * the standardised variable (x − α·mu)/√(α²s² + σ²) is constant along the ODE.
 */
export function gaussianOdeSolution(mu: Latents, s: number, xT: Latents, tEnd: number, ns = new NoiseScheduleVP(), tStart = 1): Latents {
  const scale = (t: number) => {
    const a = Math.exp(ns.marginalLogMeanCoeff(t));
    return { a, v: Math.sqrt(a * a * s * s + 1 - a * a) };
  };
  const start = scale(tStart);
  const end = scale(tEnd);
  return tf.tidy(() => tf.add(tf.mul(mu, end.a), tf.mul(tf.sub(xT, tf.mul(mu, start.a)), end.v / start.v)));
}

/** A deterministic pseudo-random tensor (a fixed-seed generator of our own, not the one under test). */
export function fixedNormal(shape: [number, number, number, number], seed: number): Latents {
  let state = seed >>> 0;
  const next = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return (state + 0.5) / 2 ** 32;
  };
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = Math.sqrt(-2 * Math.log(next())) * Math.cos(2 * Math.PI * next());
  return tf.tensor4d(data, shape);
}
