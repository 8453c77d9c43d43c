import type { OnnxBuilder } from '@mige/core';

/**
 * hybridLoss (iddpm.ts) as ONNX nodes, op for op in the same order, for training graphs. The
 * per-item schedule values are graph inputs ([B, 1, 1, 1] each, gathered from the float64
 * tables and rounded to float32 as extractIntoTensor does), so one graph serves every draw of t.
 */

/** Per-item schedule values, each a [B, 1, 1, 1] graph value. */
export interface OnnxLossSchedule {
  sqrtRecipAlphasCumprod: string;
  sqrtRecipm1AlphasCumprod: string;
  posteriorMeanCoef1: string;
  posteriorMeanCoef2: string;
  posteriorLogVarianceClipped: string;
  logBetas: string;
  /** 1 where t = 0 (the decoder NLL replaces the KL), else 0; [B] float. */
  isFirstStep: string;
  /** The mse term's per-item factor ('v': min(maxWeight, 1/ᾱ_t)); absent for 'eps'. */
  mseWeight?: string;
  /** 'snr' only: 1 where t < SNR_X0_BELOW (the x0 error replaces ε's), [B, 1, 1, 1]. */
  snrUseX0?: string;
}

export interface OnnxLossInputs {
  x0: string;
  noise: string;
  xT: string;
  eps: string;
  variance: string;
  /** Per-element mse weights broadcast to [B, C, h, w] (edit focus). */
  weight?: string;
}

const LN2 = Math.log(2);

/** meanFlat: mean over every axis but the batch, [B, C, h, w] → [B]. */
function meanFlat(g: OnnxBuilder, x: string): string {
  return g.reduceMean(x, [1, 2, 3], false);
}

/** normal_kl, elementwise in nats (likelihoods.ts's normalKl). */
function normalKl(g: OnnxBuilder, mean1: string, logvar1: string, mean2: string, logvar2: string): string {
  const d = g.sub(mean1, mean2);
  const a = g.add(g.sub(g.add(g.scalar(-1), logvar2), logvar1), g.exp(g.sub(logvar1, logvar2)));
  return g.mulScalar(g.add(a, g.mul(g.mul(d, d), g.exp(g.neg(logvar2)))), 0.5);
}

/** 0.5·(1 + tanh(√(2/π)·(x + 0.044715·x³))). */
function approxStandardNormalCdf(g: OnnxBuilder, x: string): string {
  const inner = g.mulScalar(g.add(x, g.mulScalar(g.pow(x, g.scalar(3)), 0.044715)), Math.sqrt(2 / Math.PI));
  return g.mulScalar(g.addScalar(g.tanh(inner), 1), 0.5);
}

function clampedLog(g: OnnxBuilder, x: string): string {
  return g.log(g.max(x, g.scalar(1e-12)));
}

/** discretized_gaussian_log_likelihood, elementwise in nats; x (the data) carries no gradient. */
function discretizedGaussianLogLikelihood(g: OnnxBuilder, x: string, means: string, logScales: string): string {
  const centered = g.sub(x, means);
  const invStdv = g.exp(g.neg(logScales));
  const cdfPlus = approxStandardNormalCdf(g, g.mul(invStdv, g.addScalar(centered, 1 / 255)));
  const cdfMin = approxStandardNormalCdf(g, g.mul(invStdv, g.sub(centered, g.scalar(1 / 255))));
  const logCdfPlus = clampedLog(g, cdfPlus);
  const logOneMinusCdfMin = clampedLog(g, g.sub(g.scalar(1), cdfMin));
  const logCdfDelta = clampedLog(g, g.sub(cdfPlus, cdfMin));
  const inner = g.where(g.greater(x, g.scalar(0.999)), logOneMinusCdfMin, logCdfDelta);
  return g.where(g.less(x, g.scalar(-0.999)), logCdfPlus, inner);
}

/** x0 = √(1/ᾱ)·x_t − √(1/ᾱ − 1)·ε. */
function predictXstart(g: OnnxBuilder, s: OnnxLossSchedule, xT: string, eps: string): string {
  return g.sub(g.mul(s.sqrtRecipAlphasCumprod, xT), g.mul(s.sqrtRecipm1AlphasCumprod, eps));
}

/**
 * The IDDPM hybrid loss per item ([B] each): `loss = mse + vb`, with ε seen by vb through a
 * stop-gradient (the reference's `frozen_out`), so vb trains only the variance.
 */
export function emitHybridLoss(g: OnnxBuilder, input: OnnxLossInputs, s: OnnxLossSchedule): { loss: string; mse: string; vb: string } {
  const { x0, noise, xT, eps, variance } = input;
  // vbTermsBpd with ε detached.
  const frozen = g.stopGradient(eps);
  const truthMean = g.add(g.mul(s.posteriorMeanCoef1, x0), g.mul(s.posteriorMeanCoef2, xT));
  const frac = g.div(g.addScalar(variance, 1), g.scalar(2));
  const modelLogVar = g.add(g.mul(frac, s.logBetas), g.mul(g.sub(g.scalar(1), frac), s.posteriorLogVarianceClipped));
  const predX0 = predictXstart(g, s, xT, frozen);
  const modelMean = g.add(g.mul(s.posteriorMeanCoef1, predX0), g.mul(s.posteriorMeanCoef2, xT));
  const kl = g.div(meanFlat(g, normalKl(g, truthMean, s.posteriorLogVarianceClipped, modelMean, modelLogVar)), g.scalar(LN2));
  const nll = g.div(meanFlat(g, g.neg(discretizedGaussianLogLikelihood(g, x0, modelMean, g.mulScalar(modelLogVar, 0.5)))), g.scalar(LN2));
  const vb = g.where(g.cast(s.isFirstStep, 'bool'), nll, kl);
  // The mse term.
  const diff = g.sub(noise, eps);
  const epsError = g.mul(diff, diff);
  let term = epsError;
  if (s.snrUseX0) {
    const e = g.sub(x0, predictXstart(g, s, xT, eps));
    term = g.where(g.cast(s.snrUseX0, 'bool'), g.mul(e, e), epsError);
  } else if (s.mseWeight) {
    term = g.mul(epsError, s.mseWeight);
  }
  const mse = meanFlat(g, input.weight ? g.mul(term, input.weight) : term);
  return { loss: g.add(mse, vb), mse, vb };
}
