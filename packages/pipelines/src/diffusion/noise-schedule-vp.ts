import { f32, logAddExp, torchLinspaceF32 } from './float32.js';
import { ddpmSchedule } from './schedule.js';

/**
 * DPM-Solver's `NoiseScheduleVP('discrete', betas)`: the discrete DDPM schedule seen as a
 * continuous-time VP SDE on t ∈ [1/N, 1], with step n at t_n = (n + 1)/N and log α(t) the
 * piecewise-linear interpolation of log α_n = ½·Σ_{m ≤ n} log(1 − β_m). The reference holds
 * its arrays and all derived scalars in float32; every method rounds like float32 arithmetic.
 */
export class NoiseScheduleVP {
  /** log α_n (float64 sums cast to float32), after the reference's λ ≥ −5.1 clipping. */
  readonly logAlphaArray: Float32Array;
  /** t_n = (n + 1)/N, float32 `linspace(0, 1, N + 1)[1:]`. */
  readonly tArray: Float32Array;
  /** N: the number of discrete steps kept. */
  readonly totalN: number;
  readonly T = 1;

  constructor(betas: Float64Array = ddpmSchedule().betas) {
    const logAlphas = new Float64Array(betas.length);
    let sum = 0;
    for (let i = 0; i < betas.length; i++) {
      sum += Math.log(1 - (betas[i] as number));
      logAlphas[i] = 0.5 * sum;
    }
    // numerical_clip_alpha: drop the tail whose half-logSNR is below −5.1 (none for the linear
    // schedule, whose λ(1) ≈ −5.06; cosine schedules need it).
    let clipped = 0;
    for (const la of logAlphas) if (la - 0.5 * Math.log(1 - Math.exp(2 * la)) < -5.1) clipped++;
    this.logAlphaArray = Float32Array.from(logAlphas.subarray(0, logAlphas.length - clipped));
    this.totalN = this.logAlphaArray.length;
    this.tArray = torchLinspaceF32(0, 1, this.totalN + 1).slice(1);
  }

  /** log α(t) (`marginal_log_mean_coeff`), linear beyond the ends as the reference extrapolates. */
  marginalLogMeanCoeff(t: number): number {
    return interpolate(f32(t), this.tArray, this.logAlphaArray);
  }

  marginalAlpha(t: number): number {
    return f32(Math.exp(this.marginalLogMeanCoeff(t)));
  }

  /** σ(t) = √(1 − α(t)²). */
  marginalStd(t: number): number {
    return f32(Math.sqrt(oneMinusAlpha2(this.marginalLogMeanCoeff(t))));
  }

  /** λ(t) = log α − log σ, the half-logSNR. */
  marginalLambda(t: number): number {
    const la = this.marginalLogMeanCoeff(t);
    return f32(la - f32(0.5 * f32(Math.log(oneMinusAlpha2(la)))));
  }

  /** The t with λ(t) = lambda (`inverse_lambda`), interpolating t against log α. */
  inverseLambda(lambda: number): number {
    const logAlpha = f32(-0.5 * f32(logAddExp(0, f32(-2 * f32(lambda)))));
    return interpolate(logAlpha, reversed(this.logAlphaArray), reversed(this.tArray));
  }

  /** The network's time input for continuous t: (t − 1/N)·1000 (0 … 999 on the grid). */
  modelTime(t: number): number {
    return f32(f32(f32(t) - f32(1 / this.totalN)) * 1000);
  }
}

/** 1 − exp(2·log α) in float32 steps. */
function oneMinusAlpha2(logAlpha: number): number {
  return f32(1 - f32(Math.exp(f32(2 * logAlpha))));
}

const reversedCache = new WeakMap<Float32Array, Float32Array>();
function reversed(a: Float32Array): Float32Array {
  let r = reversedCache.get(a);
  if (!r) {
    r = a.slice().reverse();
    reversedCache.set(a, r);
  }
  return r;
}

/**
 * The reference's `interpolate_fn` for one point: the line through the two knots around x
 * (knots xp ascending), and the line through the two outermost knots beyond either end. A
 * point equal to knot j uses the segment [j−1, j], as the reference's stable sort places x
 * before the equal knot.
 */
export function interpolate(x: number, xp: Float32Array, yp: Float32Array): number {
  const k = xp.length;
  // Number of knots strictly below x (binary search).
  let lo = 0;
  let hi = k;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((xp[mid] as number) < x) lo = mid + 1;
    else hi = mid;
  }
  const j = Math.min(Math.max(lo - 1, 0), k - 2);
  const x0 = xp[j] as number, x1 = xp[j + 1] as number;
  const y0 = yp[j] as number, y1 = yp[j + 1] as number;
  return f32(y0 + f32(f32(f32(x - x0) * f32(y1 - y0)) / f32(x1 - x0)));
}
