// Samplers without a fixture (DPM-Solver orders 1 and 3, logSNR / time_quadratic spacing,
// DDIM, DDPM) against exact solutions: for Gaussian data x0 ~ N(mu, s²) the exact ε is known
// in closed form, the probability-flow ODE keeps (x − α·mu)/√(α²s² + σ²) constant, and the
// ancestral DDPM chain is linear-Gaussian, so its output distribution is computable.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng, tf, type Latents } from '@mige/core';
import { createSampler, ddpmSchedule, spacedTimesteps, type SkipType } from '../../src/diffusion/index.js';
import { fixedNormal, gaussianDataModel, gaussianOdeSolution, maxAbsDiff, TEST_BACKENDS, useBackend } from './helpers.js';

const T_END = 0.001;
const report: string[] = [];

describe.each(TEST_BACKENDS)('exact-solution checks on %s', (backend) => {
  let mu: Latents;
  let xT: Latents;

  beforeAll(async () => {
    await useBackend(backend);
    mu = tf.mul(fixedNormal([2, 4, 4, 4], 7), 0.8) as Latents;
    xT = fixedNormal([2, 4, 4, 4], 9);
  });

  const dpm = (order: 1 | 2 | 3, skipType: SkipType, steps: number, s: number) =>
    createSampler({ type: 'dpm-solver', order, skipType }).sample(gaussianDataModel(mu, s), xT, { steps });

  it('every DPM-Solver++ order and spacing follows the point-mass ODE exactly', async () => {
    // x0 is then constant, so each update is exact: x_end = α_end·x0* + σ_end·ε(x_T) (σ_end = 0.01).
    const exact = gaussianOdeSolution(mu, 0, xT, T_END);
    let worst = 0;
    for (const skipType of ['time_uniform', 'logSNR', 'time_quadratic'] as const) {
      for (const order of [1, 2, 3] as const) {
        for (const steps of [3, 12]) {
          const out = await dpm(order, skipType, steps, 0);
          worst = Math.max(worst, maxAbsDiff(out, exact));
          out.dispose();
        }
      }
    }
    report.push(`${backend} point mass, all orders/spacings: ${worst.toExponential(2)}`);
    expect(worst).toBeLessThanOrEqual(2e-5);
  });

  it.each(['logSNR', 'time_quadratic'] as const)('Gaussian data, %s: error falls with the order and at the order\'s rate', async (skipType) => {
    const exact = gaussianOdeSolution(mu, 0.5, xT, T_END);
    const err: Record<number, number[]> = {};
    for (const order of [1, 2, 3] as const) {
      err[order] = [];
      for (const steps of [20, 40]) {
        const out = await dpm(order, skipType, steps, 0.5);
        err[order]?.push(maxAbsDiff(out, exact));
        out.dispose();
      }
    }
    const [e1, e2, e3] = [err[1], err[2], err[3]] as [number[], number[], number[]];
    const rate = (e: number[]) => Math.log2((e[0] as number) / (e[1] as number));
    report.push(`${backend} ${skipType} errors @20/@40 steps: order1 ${e1.map((v) => v.toExponential(1))}, order2 ${e2.map((v) => v.toExponential(1))}, order3 ${e3.map((v) => v.toExponential(1))}`);
    for (let i = 0; i < 2; i++) {
      expect(e3[i]).toBeLessThan(e2[i] as number);
      expect(e2[i]).toBeLessThan(e1[i] as number);
    }
    // Observed convergence orders (halving the step): ≈1, ≈2 and > 2 (the third-order
    // multistep method warms up with first- and second-order steps, as in the reference).
    expect(rate(e1)).toBeGreaterThan(0.8);
    expect(rate(e1)).toBeLessThan(1.2);
    expect(rate(e2)).toBeGreaterThan(1.7);
    expect(rate(e3)).toBeGreaterThan(2);
  });

  it('DPM-Solver++ started at maxTimestep follows the ODE from that time, and 999 is the default', async () => {
    const run = (maxTimestep?: number) => {
      const config = { type: 'dpm-solver', order: 2, skipType: 'logSNR', ...(maxTimestep === undefined ? {} : { maxTimestep }) } as const;
      return createSampler(config).sample(gaussianDataModel(mu, 0.5), xT, { steps: 40 });
    };
    const [full, same, late] = [await run(), await run(999), await run(499)];
    expect(maxAbsDiff(same, full)).toBe(0);
    // Gaussian data: from t = 0.5 the error against the exact solution from there is below the
    // full run's against its own, and both are small next to how far apart the solutions are.
    const exactLate = gaussianOdeSolution(mu, 0.5, xT, T_END, undefined, 0.5);
    const exactFull = gaussianOdeSolution(mu, 0.5, xT, T_END);
    const [errLate, errFull, apart] = [maxAbsDiff(late, exactLate), maxAbsDiff(full, exactFull), maxAbsDiff(exactLate, exactFull)];
    report.push(`${backend} DPM-Solver++ logSNR 40 steps: from t = 0.5 ${errLate.toExponential(2)}, from t = 1 ${errFull.toExponential(2)} (solutions ${apart.toExponential(2)} apart)`);
    expect(errLate).toBeLessThan(5e-3);
    expect(errLate).toBeLessThan(errFull);
    expect(apart).toBeGreaterThan(0.1);
    tf.dispose([full, same, late, exactLate, exactFull]);
  });

  it('DDIM lands on the point mass and converges at first order on Gaussian data', async () => {
    const ddim = createSampler({ type: 'ddim' });
    for (const steps of [1, 10, 50]) {
      const out = await ddim.sample(gaussianDataModel(mu, 0), xT, { steps });
      expect(maxAbsDiff(out, mu)).toBeLessThanOrEqual(1e-5);
      out.dispose();
    }
    // Ends at t = 0 (α = 1): the exact ODE solution there is mu + s·z.
    const exact = gaussianOdeSolution(mu, 0.5, xT, 0);
    const e = [];
    for (const steps of [40, 80]) {
      const out = await ddim.sample(gaussianDataModel(mu, 0.5), xT, { steps });
      e.push(maxAbsDiff(out, exact));
      out.dispose();
    }
    report.push(`${backend} DDIM Gaussian errors @40/@80: ${e.map((v) => v.toExponential(2))}`);
    expect(Math.log2((e[0] as number) / (e[1] as number))).toBeGreaterThan(0.8);
  });

  it('DDPM lands on the point mass whatever the noise', async () => {
    const out = await createSampler({ type: 'ddpm' }).sample(gaussianDataModel(mu, 0), xT, { steps: 25, rng: new Rng(3) });
    expect(maxAbsDiff(out, mu)).toBeLessThanOrEqual(1e-5);
    out.dispose();
  });

  it.each([999, 700])('DDPM (maxTimestep %i) on Gaussian data has the output distribution of the linear-Gaussian chain', async (maxTimestep) => {
    const rows = 64, steps = 50, s = 0.5;
    const muB = tf.tile(tf.slice(mu, 0, 1), [rows, 1, 1, 1]) as Latents;
    const xB = fixedNormal([rows, 4, 4, 4], 11);
    const out = await createSampler({ type: 'ddpm', maxTimestep }).sample(gaussianDataModel(muB, s), xB, { steps, rng: new Rng(5) });
    // Per element x_prev = A·x + B·mu + std·z, so x_0 = P·x_T + Q·mu + N(0, V); recursion in float64.
    const sched = ddpmSchedule();
    const ts = spacedTimesteps(steps, maxTimestep + 1);
    expect([ts.length, ts.at(-1)]).toEqual([steps, maxTimestep]);
    let P = 1, Q = 0, V = 0;
    for (let k = ts.length - 1; k >= 0; k--) {
      const a = sched.alphasCumprod[ts[k] as number] as number;
      const ap = k === 0 ? 1 : (sched.alphasCumprod[ts[k - 1] as number] as number);
      const beta = 1 - a / ap;
      const w = (1 - a) / (a * s * s + 1 - a); // σ²/v
      const c1 = (beta * Math.sqrt(ap)) / (1 - a), c2 = ((1 - ap) * Math.sqrt(1 - beta)) / (1 - a);
      const A = (c1 * (1 - w)) / Math.sqrt(a) + c2, B = c1 * w;
      const variance = k === 0 ? 0 : (beta * (1 - ap)) / (1 - a);
      [P, Q, V] = [A * P, A * Q + B, A * A * V + variance];
    }
    const z = tf.tidy(() => tf.div(tf.sub(out, tf.add(tf.mul(xB, P), tf.mul(muB, Q))), Math.sqrt(V)));
    const n = z.size;
    const mean = tf.mean(z).dataSync()[0] as number;
    const sd = Math.sqrt((tf.mean(tf.square(z)).dataSync()[0] as number) - mean * mean);
    report.push(`${backend} DDPM standardised residual: mean ${mean.toFixed(4)}, sd ${sd.toFixed(4)} (n = ${n}, V = ${V.toFixed(4)})`);
    // 4.5 standard errors: a sampler without noise (sd 0) or with a wrong mean cannot pass.
    expect(Math.abs(mean)).toBeLessThan(4.5 / Math.sqrt(n));
    expect(Math.abs(sd - 1)).toBeLessThan(4.5 * Math.sqrt(1 / (2 * n)));
    tf.dispose([out, z, muB, xB]);
  });

  it('DDIM with eta = 1 is DDPM, and per-row generators make each row independent of the batch', async () => {
    const model = gaussianDataModel(mu, 0.5);
    const ddpm = await createSampler({ type: 'ddpm' }).sample(model, xT, { steps: 20, rng: new Rng(8) });
    const ddim1 = await createSampler({ type: 'ddim', eta: 1 }).sample(model, xT, { steps: 20, rng: new Rng(8) });
    expect(maxAbsDiff(ddim1, ddpm)).toBeLessThanOrEqual(1e-5);
    const both = await createSampler({ type: 'ddpm' }).sample(model, xT, { steps: 20, rng: [new Rng(1), new Rng(2)] });
    const row1 = await createSampler({ type: 'ddpm' }).sample(gaussianDataModel(tf.slice(mu, 1, 1), 0.5), tf.slice(xT, 1, 1), { steps: 20, rng: [new Rng(2)] });
    expect(maxAbsDiff(tf.slice(both, 1, 1), row1)).toBe(0);
    expect(maxAbsDiff(both, ddpm)).toBeGreaterThan(1e-3);
    tf.dispose([ddpm, ddim1, both, row1]);
  });
});

describe('spacedTimesteps (IDDPM respacing)', () => {
  it('spaces evenly from 0 to 999 with round-half-to-even', () => {
    expect(spacedTimesteps(10)).toEqual([0, 111, 222, 333, 444, 555, 666, 777, 888, 999]);
    expect(spacedTimesteps(7)).toEqual([0, 166, 333, 500, 666, 832, 999]);
    expect(spacedTimesteps(1)).toEqual([0]);
    expect(spacedTimesteps(1000)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(createSampler({ type: 'ddim' }).modelTimes(4)).toEqual([999, 666, 333, 0]);
  });
});

afterAll(() => {
  if (report.length) console.log(`exact-solution checks:\n  ${report.join('\n  ')}`);
});
