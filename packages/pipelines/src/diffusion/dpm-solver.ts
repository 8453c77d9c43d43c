import { checkAbort, tf, type Latents } from '@mige/core';
import { f32, torchLinspaceF32 } from './float32.js';
import { NoiseScheduleVP } from './noise-schedule-vp.js';
import type { DpmSolverConfig, AsyncNoiseModel, SampleOptions, Sampler } from './sampler.js';
import { checkSampleInput, checkSteps, runStepHook, withEps, yieldToEventLoop } from './sampler-loop.js';

type Resolved = Required<DpmSolverConfig>;
/** One past evaluation: continuous time and the data prediction x0 there. */
interface Evaluation { t: number; x0: Latents }

/**
 * Multistep DPM-Solver++ (`algorithm_type="dpmsolver++"`, `solver_type="dpmsolver"`) on the
 * discrete VP schedule, as MIGE samples through PixArt's `DPMS(...).sample(x_T, steps, order,
 * skip_type, method='multistep')`. It integrates the diffusion ODE in the data-prediction form
 * x0 = (x − σ·ε)/α from t = 1 (or maxTimestep's time) to t = 1/N with exactly `steps` network
 * calls; the first `order − 1` steps warm up with lower orders (so steps < order, which the
 * reference rejects, simply runs at order `steps`). Scalar coefficients are rounded like the
 * reference's float32 tensors.
 */
export class DpmSolverSampler implements Sampler {
  constructor(
    readonly config: Resolved,
    readonly schedule: NoiseScheduleVP = new NoiseScheduleVP(),
  ) {}

  /**
   * The continuous times t_0 > … > t_steps = 1/N (float32), `get_time_steps`; t_0 = 1 (the
   * reference), or (maxTimestep + 1)/N.
   */
  timesteps(steps: number): Float32Array {
    const ns = this.schedule;
    const tT = Math.min(ns.T, f32((this.config.maxTimestep + 1) / ns.totalN));
    const t0 = 1 / ns.totalN;
    switch (this.config.skipType) {
      case 'time_uniform':
        return torchLinspaceF32(tT, t0, steps + 1);
      case 'time_quadratic':
        return torchLinspaceF32(Math.sqrt(tT), Math.sqrt(t0), steps + 1).map((v) => f32(v * v));
      case 'logSNR': {
        const lambdas = torchLinspaceF32(ns.marginalLambda(tT), ns.marginalLambda(t0), steps + 1);
        return lambdas.map((l) => ns.inverseLambda(l));
      }
    }
  }

  modelTimes(steps: number): number[] {
    checkSteps(steps, 'dpm-solver.modelTimes');
    return Array.from(this.timesteps(steps).subarray(0, steps), (t) => this.schedule.modelTime(t));
  }

  /**
   * The solver order of step i (from t_i to t_{i+1}): warm-up min(order, i + 1); with
   * lowerOrderFinal and steps < 10 (the reference's rule) also at most steps − i, so the last
   * step is first order.
   */
  stepOrder(i: number, steps: number): number {
    const { order, lowerOrderFinal } = this.config;
    let o = Math.min(order, i + 1);
    if (lowerOrderFinal && steps < 10) o = Math.min(o, steps - i);
    return o;
  }

  async sample(model: AsyncNoiseModel, xT: Latents, options: SampleOptions): Promise<Latents> {
    checkSampleInput(xT, options, 'dpm-solver.sample');
    const { steps, onStep, signal } = options;
    const ns = this.schedule;
    const grid = this.timesteps(steps);
    const history: Evaluation[] = [];
    let x: Latents = tf.clone(xT);
    try {
      for (let i = 0; i < steps; i++) {
        await yieldToEventLoop();
        checkAbort(signal, 'sample', i);
        const t = grid[i] as number;
        const modelTime = ns.modelTime(t);
        const alpha = ns.marginalAlpha(t);
        const sigma = ns.marginalStd(t);
        const x0 = await withEps(model, x, modelTime, (eps) => tf.div(tf.sub(x, tf.mul(eps, sigma)), alpha) as Latents);
        history.push({ t, x0 });
        if (history.length > this.config.order) history.shift()?.x0.dispose();
        const order = this.stepOrder(i, steps);
        const next = tf.tidy(() => this.update(x, history.slice(-order), grid[i + 1] as number));
        x.dispose();
        x = next;
        x = runStepHook(onStep, { index: i, total: steps, modelTime, x, denoised: x0 });
      }
      return x;
    } catch (e) {
      x.dispose();
      throw e;
    } finally {
      for (const h of history) h.x0.dispose();
    }
  }

  /**
   * One multistep DPM-Solver++ update of x from the newest evaluation's time to t, of order
   * prev.length (1: `dpm_solver_first_update`, 2 and 3: `multistep_dpm_solver_{second,third}_update`).
   */
  private update(x: Latents, prev: Evaluation[], t: number): Latents {
    const ns = this.schedule;
    const p0 = prev[prev.length - 1] as Evaluation;
    const lambdaT = ns.marginalLambda(t);
    const lambda0 = ns.marginalLambda(p0.t);
    const h = f32(lambdaT - lambda0);
    const alphaT = ns.marginalAlpha(t);
    const phi1 = f32(Math.expm1(-h));
    const ratio = f32(ns.marginalStd(t) / ns.marginalStd(p0.t));
    const alphaPhi1 = f32(alphaT * phi1);
    // Every form starts with (σ_t/σ_p0)·x − (α_t·φ1)·x0_p0.
    const base = tf.sub(tf.mul(x, ratio), tf.mul(p0.x0, alphaPhi1));
    if (prev.length === 1) return base as Latents;
    const p1 = prev[prev.length - 2] as Evaluation;
    const lambda1 = ns.marginalLambda(p1.t);
    const r0 = f32(f32(lambda0 - lambda1) / h);
    const d10 = tf.mul(tf.sub(p0.x0, p1.x0), f32(1 / r0));
    if (prev.length === 2) return tf.sub(base, tf.mul(d10, f32(0.5 * alphaPhi1))) as Latents;
    const p2 = prev[0] as Evaluation;
    const r1 = f32(f32(lambda1 - ns.marginalLambda(p2.t)) / h);
    const d11 = tf.mul(tf.sub(p1.x0, p2.x0), f32(1 / r1));
    const r01 = f32(r0 + r1);
    const diff = tf.sub(d10, d11);
    const d1 = tf.add(d10, tf.mul(diff, f32(r0 / r01)));
    const d2 = tf.mul(diff, f32(1 / r01));
    const phi2 = f32(f32(phi1 / h) + 1);
    const phi3 = f32(f32(phi2 / h) - 0.5);
    return tf.sub(tf.add(base, tf.mul(d1, f32(alphaT * phi2))), tf.mul(d2, f32(alphaT * phi3))) as Latents;
  }
}
