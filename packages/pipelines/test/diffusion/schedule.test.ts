// The noise schedules: the discrete DDPM tables (hand-checkable values) and DPM-Solver's
// NoiseScheduleVP against the `dpm_solver` fixture's schedule arrays (README §8).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ddpmSchedule, interpolate, NoiseScheduleVP, numpyLinspace, torchLinspaceF32 } from '../../src/diffusion/index.js';
import { get, maxAbsDiff, readFixture, useBackend } from './helpers.js';

const report: string[] = [];

describe('ddpmSchedule (float64 IDDPM tables)', () => {
  const s = ddpmSchedule();

  it('has the linear betas 1e-4 … 0.02 with numpy spacing', () => {
    expect(s.betas.length).toBe(1000);
    expect(s.betas[0]).toBe(1e-4);
    expect(s.betas[999]).toBe(0.02);
    expect(s.betas[1]).toBeCloseTo(1e-4 + 0.0199 / 999, 18);
    expect(numpyLinspace(0, 1, 5)).toEqual(Float64Array.from([0, 0.25, 0.5, 0.75, 1]));
  });

  it('derives ᾱ and the posterior tables', () => {
    expect(s.alphasCumprod[0]).toBe(1 - 1e-4);
    expect(s.alphasCumprod[1]).toBeCloseTo((1 - 1e-4) * (1 - (s.betas[1] as number)), 16);
    // ᾱ_999 ≈ 4.036e-5 for MIGE's schedule (log ᾱ = Σ log(1 − β)).
    expect(s.alphasCumprod[999]).toBeCloseTo(4.0358e-5, 8);
    expect(s.alphasCumprodPrev[0]).toBe(1);
    expect(s.alphasCumprodPrev[5]).toBe(s.alphasCumprod[4]);
    expect(s.alphasCumprodNext[999]).toBe(0);
    expect(s.posteriorVariance[0]).toBe(0);
    expect(s.posteriorLogVarianceClipped[0]).toBe(Math.log(s.posteriorVariance[1] as number));
    const t = 500, a = s.alphasCumprod[t] as number, ap = s.alphasCumprod[t - 1] as number, b = s.betas[t] as number;
    expect(s.posteriorVariance[t]).toBeCloseTo((b * (1 - ap)) / (1 - a), 15);
    expect(s.posteriorMeanCoef1[t]).toBeCloseTo((b * Math.sqrt(ap)) / (1 - a), 15);
    expect(s.posteriorMeanCoef2[t]).toBeCloseTo(((1 - ap) * Math.sqrt(1 - b)) / (1 - a), 15);
    expect((s.sqrtRecipAlphasCumprod[t] as number) ** 2 - 1).toBeCloseTo((s.sqrtRecipm1AlphasCumprod[t] as number) ** 2, 12);
  });

  it('rejects a bad schedule', () => {
    expect(() => ddpmSchedule(1)).toThrow(/numSteps/);
    expect(() => ddpmSchedule(1000, 0.1, 0.01)).toThrow(/betaStart/);
  });
});

describe('torchLinspaceF32', () => {
  it('computes each half from its own end in float32', () => {
    const g = torchLinspaceF32(1, 0.001, 6);
    expect(Array.from(g)).toEqual([1, 0.8001999855041504, 0.6003999710083008, 0.40059998631477356, 0.20080000162124634, 0.0010000000474974513]);
    expect(Array.from(torchLinspaceF32(0, 1, 1))).toEqual([0]);
  });
});

describe('NoiseScheduleVP (discrete) vs the dpm_solver fixture', () => {
  const ns = new NoiseScheduleVP();
  let logAlpha: Float32Array;
  let tArray: Float32Array;

  beforeAll(async () => {
    await useBackend('cpu');
    const io = readFixture('dpm_solver/io.safetensors');
    logAlpha = get(io, 'schedule.log_alpha_array').dataSync() as Float32Array;
    tArray = get(io, 'schedule.t_array').dataSync() as Float32Array;
  });

  it('log_alpha_array and t_array match', () => {
    expect(ns.totalN).toBe(1000);
    const dl = maxAbsDiff(ns.logAlphaArray, logAlpha);
    const dt = maxAbsDiff(ns.tArray, tArray);
    report.push(`log_alpha_array ${dl.toExponential(2)}, t_array ${dt.toExponential(2)}`);
    expect(dl).toBeLessThanOrEqual(1e-6);
    expect(dt).toBeLessThanOrEqual(1e-6);
  });

  it('interpolates log α between knots and extrapolates the outer segments', () => {
    // At a knot: the knot's value.
    expect(ns.marginalLogMeanCoeff(ns.tArray[499] as number)).toBeCloseTo(ns.logAlphaArray[499] as number, 6);
    // Midway between knots 0 and 1, and linearly beyond t = 1/N and t = 1.
    const [t0, t1, y0, y1] = [ns.tArray[0], ns.tArray[1], ns.logAlphaArray[0], ns.logAlphaArray[1]] as number[] as [number, number, number, number];
    expect(ns.marginalLogMeanCoeff((t0 + t1) / 2)).toBeCloseTo((y0 + y1) / 2, 7);
    expect(ns.marginalLogMeanCoeff(0)).toBeCloseTo(y0 - (t0 * (y1 - y0)) / (t1 - t0), 7);
    const knots = Float32Array.from([0, 1, 3]);
    const values = Float32Array.from([0, 2, 10]);
    expect(interpolate(-1, knots, values)).toBe(-2);
    expect(interpolate(2, knots, values)).toBe(6);
    expect(interpolate(4, knots, values)).toBe(14);
  });

  it('α² + σ² = 1, λ = log(α/σ), and inverse_lambda inverts λ', () => {
    for (const t of [0.001, 0.0123, 0.3, 0.77, 1]) {
      const a = ns.marginalAlpha(t), s = ns.marginalStd(t);
      expect(a * a + s * s).toBeCloseTo(1, 6);
      expect(ns.marginalLambda(t)).toBeCloseTo(Math.log(a / s), 4);
      expect(ns.inverseLambda(ns.marginalLambda(t))).toBeCloseTo(t, 5);
    }
    // The end points of MIGE's schedule: λ(1) = log α_999 − log σ_999.
    expect(ns.marginalLambda(1)).toBeCloseTo(-5.0588, 3);
    // float32 cancellation in 1 − α² (≈ 1e-4) limits λ(1/N) to ~1e-4, as in the reference.
    expect(ns.marginalLambda(0.001)).toBeCloseTo(0.5 * Math.log((1 - 1e-4) / 1e-4), 3);
  });

  it('maps continuous time to the model time (t − 1/N)·1000', () => {
    expect(ns.modelTime(1)).toBe(999);
    expect(ns.modelTime(0.8001999855041504)).toBe(799.2000122070312);
  });
});

afterAll(() => {
  if (report.length) console.log(`schedule max abs diffs: ${report.join('; ')}`);
});
