import { MigeInputError } from '@mige/core';

/**
 * The discrete DDPM noise schedule MIGE trains and samples with (IDDPM's
 * `get_named_beta_schedule('linear', 1000)` and the tables `GaussianDiffusion` derives from it).
 * Everything is float64, as in the reference (numpy); callers cast gathered values to float32.
 */
export interface DdpmSchedule {
  numSteps: number;
  /** β_n, n = 0 … N−1: numpy `linspace(betaStart, betaEnd, N)` (float64). */
  betas: Float64Array;
  /** log(β), the upper end of IDDPM's learned-range variance. */
  logBetas: Float64Array;
  /** ᾱ_n = ∏_{m ≤ n} (1 − β_m). */
  alphasCumprod: Float64Array;
  /** ᾱ_{n−1}, with ᾱ_{−1} = 1. */
  alphasCumprodPrev: Float64Array;
  /** ᾱ_{n+1}, with ᾱ_N = 0. */
  alphasCumprodNext: Float64Array;
  sqrtAlphasCumprod: Float64Array;
  sqrtOneMinusAlphasCumprod: Float64Array;
  logOneMinusAlphasCumprod: Float64Array;
  /** √(1/ᾱ), for x0 = √(1/ᾱ)·x_t − √(1/ᾱ − 1)·ε. */
  sqrtRecipAlphasCumprod: Float64Array;
  /** √(1/ᾱ − 1). */
  sqrtRecipm1AlphasCumprod: Float64Array;
  /** Variance of q(x_{n−1} | x_n, x0): β·(1 − ᾱ_prev)/(1 − ᾱ) (0 at n = 0). */
  posteriorVariance: Float64Array;
  /** log of posteriorVariance with index 0 taking index 1's value (log 0 is −∞). */
  posteriorLogVarianceClipped: Float64Array;
  /** Posterior mean = coef1·x0 + coef2·x_t; coef1 = β·√ᾱ_prev/(1 − ᾱ). */
  posteriorMeanCoef1: Float64Array;
  /** coef2 = (1 − ᾱ_prev)·√(1 − β)/(1 − ᾱ). */
  posteriorMeanCoef2: Float64Array;
}

/** numpy's `linspace(start, stop, num)` in float64: `start + i·step`, the last value exactly `stop`. */
export function numpyLinspace(start: number, stop: number, num: number): Float64Array {
  const out = new Float64Array(num);
  const step = num > 1 ? (stop - start) / (num - 1) : 0;
  for (let i = 0; i < num; i++) out[i] = i * step + start;
  if (num > 1) out[num - 1] = stop;
  return out;
}

/** get_named_beta_schedule('linear', n): linspace(scale·1e-4, scale·0.02, n) with scale = 1000 / n. */
export function linearBetas(numSteps = 1000): Float64Array {
  const scale = 1000 / numSteps;
  return numpyLinspace(scale * 0.0001, scale * 0.02, numSteps);
}

/**
 * respace.py's SpacedDiffusion: new betas from the kept steps' alphas_cumprod,
 * β'_i = 1 − ᾱ_{k_i} / ᾱ_{k_{i−1}}. With every step kept (MIGE's `'1000'`) this is the original
 * schedule up to float64 rounding, which the reference carries, so we do too.
 */
export function respaceBetas(betas: Float64Array, useTimesteps: readonly number[]): Float64Array {
  const keep = new Set(useTimesteps);
  const out: number[] = [];
  let alphaCumprod = 1;
  let last = 1;
  for (let i = 0; i < betas.length; i++) {
    alphaCumprod *= 1 - (betas[i] as number);
    if (keep.has(i)) {
      out.push(1 - alphaCumprod / last);
      last = alphaCumprod;
    }
  }
  return Float64Array.from(out);
}

/** GaussianDiffusion.__init__'s tables for any `betas` (float64, as numpy computes them). */
export function ddpmTables(betas: Float64Array): DdpmSchedule {
  const n = betas.length;
  if (n < 2) throw new MigeInputError(`a schedule needs at least 2 steps, got ${n}`, 'ddpmTables');
  if (!betas.every((b) => b > 0 && b < 1)) throw new MigeInputError('every beta must be in (0, 1)', 'ddpmTables');
  const table = () => new Float64Array(n);
  const ac = table(), prev = table(), next = table();
  let prod = 1;
  for (let i = 0; i < n; i++) {
    prod *= 1 - (betas[i] as number);
    ac[i] = prod;
  }
  for (let i = 0; i < n; i++) {
    prev[i] = i === 0 ? 1 : (ac[i - 1] as number);
    next[i] = i === n - 1 ? 0 : (ac[i + 1] as number);
  }
  const map = (f: (i: number) => number) => Float64Array.from({ length: n }, (_, i) => f(i));
  const b = (i: number) => betas[i] as number;
  const a = (i: number) => ac[i] as number;
  const p = (i: number) => prev[i] as number;
  const posteriorVariance = map((i) => (b(i) * (1 - p(i))) / (1 - a(i)));
  return {
    numSteps: n,
    betas: Float64Array.from(betas),
    logBetas: map((i) => Math.log(b(i))),
    alphasCumprod: ac,
    alphasCumprodPrev: prev,
    alphasCumprodNext: next,
    sqrtAlphasCumprod: map((i) => Math.sqrt(a(i))),
    sqrtOneMinusAlphasCumprod: map((i) => Math.sqrt(1 - a(i))),
    logOneMinusAlphasCumprod: map((i) => Math.log(1 - a(i))),
    sqrtRecipAlphasCumprod: map((i) => Math.sqrt(1 / a(i))),
    sqrtRecipm1AlphasCumprod: map((i) => Math.sqrt(1 / a(i) - 1)),
    posteriorVariance,
    posteriorLogVarianceClipped: map((i) => Math.log(posteriorVariance[i === 0 ? 1 : i] as number)),
    posteriorMeanCoef1: map((i) => (b(i) * Math.sqrt(p(i))) / (1 - a(i))),
    posteriorMeanCoef2: map((i) => ((1 - p(i)) * Math.sqrt(1 - b(i))) / (1 - a(i))),
  };
}

/**
 * The linear β schedule and its derived tables. The defaults are MIGE's (1000 steps,
 * β from 1e-4 to 0.02). Unlike IDDPM's helper the β range is not rescaled by 1000/N: pass the
 * range you want.
 */
export function ddpmSchedule(numSteps = 1000, betaStart = 1e-4, betaEnd = 0.02): DdpmSchedule {
  if (!Number.isInteger(numSteps) || numSteps < 2) throw new MigeInputError(`numSteps must be an integer ≥ 2, got ${numSteps}`, 'ddpmSchedule');
  if (!(betaStart > 0 && betaEnd < 1 && betaStart <= betaEnd)) {
    throw new MigeInputError(`betas must satisfy 0 < betaStart ≤ betaEnd < 1, got ${betaStart}..${betaEnd}`, 'ddpmSchedule');
  }
  return ddpmTables(numpyLinspace(betaStart, betaEnd, numSteps));
}

let iddpm: DdpmSchedule | undefined;

/** MIGE's training diffusion, IDDPM('1000'): linear betas with all 1000 steps respaced, as the reference builds it. */
export function iddpmTables(): DdpmSchedule {
  if (!iddpm) {
    const betas = linearBetas(1000);
    iddpm = ddpmTables(respaceBetas(betas, Array.from(betas, (_, i) => i)));
  }
  return iddpm;
}
