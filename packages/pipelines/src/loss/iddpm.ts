import { checkShapes, MigeInputError, tf, type Latents } from '@mige/core';
import { iddpmTables, type DdpmSchedule } from '../diffusion/schedule.js';
import { discretizedGaussianLogLikelihood, meanFlat, normalKl } from './likelihoods.js';
import { stopGradient } from './stop-gradient.js';
import { extractIntoTensor, timestepIndices, type TimestepIndices } from './timesteps.js';

/**
 * MIGE's training loss: `IDDPM('1000', learn_sigma=True, pred_sigma=True, snr=False)
 * .training_losses` (gaussian_diffusion.py, ε-prediction, LEARNED_RANGE variance, LossType.MSE),
 * i.e. the IDDPM hybrid loss `mse + vb`. Every function takes the tables as an optional last
 * argument (default: MIGE's 1000-step linear schedule).
 */

const LN2 = Math.log(2);

/** q_sample: x_t = sqrt(ᾱ_t)·x0 + sqrt(1 − ᾱ_t)·noise, all [B, C, h, w]. */
export function qSample(x0: Latents, t: TimestepIndices, noise: Latents, tables: DdpmSchedule = iddpmTables()): Latents {
  checkShapes('qSample', { x0: [x0, ['B', 'C', 'H', 'W']], noise: [noise, ['B', 'C', 'H', 'W']] });
  const steps = timestepIndices(t, x0.shape[0], tables.numSteps, 'qSample');
  return tf.tidy(() =>
    tf.add(
      tf.mul(extractIntoTensor(tables.sqrtAlphasCumprod, steps), x0),
      tf.mul(extractIntoTensor(tables.sqrtOneMinusAlphasCumprod, steps), noise),
    ),
  );
}

export interface PosteriorMeanVariance {
  /** The posterior mean of q(x_{t−1} | x_t, x0) [B, C, h, w]. */
  mean: Latents;
  /** Its clipped log variance, broadcast to [B, C, h, w] (as the reference returns it). */
  logVarianceClipped: Latents;
}

/** q_posterior_mean_variance: mean = c1·x0 + c2·x_t and the clipped log variance at t. */
export function qPosteriorMeanVariance(
  x0: Latents,
  xT: Latents,
  t: TimestepIndices,
  tables: DdpmSchedule = iddpmTables(),
): PosteriorMeanVariance {
  checkShapes('qPosteriorMeanVariance', { x0: [x0, ['B', 'C', 'H', 'W']], xT: [xT, ['B', 'C', 'H', 'W']] });
  const steps = timestepIndices(t, x0.shape[0], tables.numSteps, 'qPosteriorMeanVariance');
  return tf.tidy(() => ({
    mean: tf.add(
      tf.mul(extractIntoTensor(tables.posteriorMeanCoef1, steps), x0),
      tf.mul(extractIntoTensor(tables.posteriorMeanCoef2, steps), xT),
    ) as Latents,
    logVarianceClipped: tf.broadcastTo(
      extractIntoTensor(tables.posteriorLogVarianceClipped, steps),
      x0.shape,
    ) as Latents,
  }));
}

export interface ModelMeanVariance {
  /** The model's mean of p(x_{t−1} | x_t): the posterior mean at pred_xstart [B, C, h, w]. */
  mean: Latents;
  /** log σ² = f·log β_t + (1 − f)·log σ̃²_t with f = (v + 1)/2 [B, C, h, w]. */
  logVariance: Latents;
  /** x0 predicted from ε: sqrt(1/ᾱ)·x_t − sqrt(1/ᾱ − 1)·ε [B, C, h, w]. */
  predXstart: Latents;
}

/**
 * p_mean_variance for an ε / learned-range network, clip_denoised=False. `eps` and `variance`
 * are the backbone's two output halves, each [B, C, h, w].
 */
export function pMeanVariance(
  eps: Latents,
  variance: Latents,
  xT: Latents,
  t: TimestepIndices,
  tables: DdpmSchedule = iddpmTables(),
): ModelMeanVariance {
  checkShapes('pMeanVariance', {
    eps: [eps, ['B', 'C', 'H', 'W']],
    variance: [variance, ['B', 'C', 'H', 'W']],
    xT: [xT, ['B', 'C', 'H', 'W']],
  });
  const steps = timestepIndices(t, xT.shape[0], tables.numSteps, 'pMeanVariance');
  return tf.tidy(() => {
    const minLog = extractIntoTensor(tables.posteriorLogVarianceClipped, steps);
    const maxLog = extractIntoTensor(tables.logBetas, steps);
    const frac = tf.div(tf.add(variance, 1), 2);
    const logVariance = tf.add(tf.mul(frac, maxLog), tf.mul(tf.sub(1, frac), minLog)) as Latents;
    const predXstart = predictXstart(xT, eps, steps, tables) as Latents;
    const mean = tf.add(
      tf.mul(extractIntoTensor(tables.posteriorMeanCoef1, steps), predXstart),
      tf.mul(extractIntoTensor(tables.posteriorMeanCoef2, steps), xT),
    ) as Latents;
    return { mean, logVariance, predXstart };
  });
}

/**
 * _vb_terms_bpd: per item, the KL between the true posterior and the model's p(x_{t−1} | x_t)
 * in bits (mean over C, h, w), or at t = 0 the discretised decoder NLL in bits. [B].
 */
export function vbTermsBpd(
  x0: Latents,
  xT: Latents,
  t: TimestepIndices,
  eps: Latents,
  variance: Latents,
  tables: DdpmSchedule = iddpmTables(),
): tf.Tensor1D {
  const steps = timestepIndices(t, x0.shape[0], tables.numSteps, 'vbTermsBpd');
  return tf.tidy(() => {
    const truth = qPosteriorMeanVariance(x0, xT, steps, tables);
    const model = pMeanVariance(eps, variance, xT, steps, tables);
    const kl = tf.div(meanFlat(normalKl(truth.mean, truth.logVarianceClipped, model.mean, model.logVariance)), LN2);
    const decoderNll = tf.div(
      meanFlat(tf.neg(discretizedGaussianLogLikelihood(x0, model.mean, tf.mul(0.5, model.logVariance)))),
      LN2,
    );
    return tf.where(tf.tensor1d(steps.map((s) => s === 0)), decoderNll, kl) as tf.Tensor1D;
  });
}

/** The mse term's elements [B, C, h, w] for each MseTarget. */
function mseTerm(target: MseTarget, maxWeight: number, epsError: tf.Tensor, x0Error: () => tf.Tensor, steps: readonly number[], tables: DdpmSchedule): tf.Tensor {
  switch (target) {
    case 'eps':
      return epsError;
    case 'snr':
      return tf.where(tf.tensor4d(steps.map((s) => s < SNR_X0_BELOW), [steps.length, 1, 1, 1], 'bool'), x0Error(), epsError);
    case 'v':
      return tf.mul(epsError, tf.tensor4d(steps.map((s) => Math.min(maxWeight, 1 / (tables.alphasCumprod[s] as number))), [steps.length, 1, 1, 1]));
    default:
      throw new MigeInputError(`mse must be 'eps', 'snr' or 'v', got ${JSON.stringify(target)}`, 'hybridLoss.mse');
  }
}

/** x0 = sqrt(1/ᾱ)·x_t − sqrt(1/ᾱ − 1)·ε (_predict_xstart_from_eps). */
function predictXstart(xT: Latents, eps: Latents, steps: readonly number[], tables: DdpmSchedule): tf.Tensor {
  return tf.sub(tf.mul(extractIntoTensor(tables.sqrtRecipAlphasCumprod, steps), xT), tf.mul(extractIntoTensor(tables.sqrtRecipm1AlphasCumprod, steps), eps));
}

export interface HybridLossInput {
  /** Clean latents [B, 4, h, w] (scaled). */
  x0: Latents;
  /** [B] integer timesteps 0..N−1. */
  t: TimestepIndices;
  /** The noise that made x_t [B, 4, h, w] (the ε target). */
  noise: Latents;
  /** x_t = qSample(x0, t, noise) [B, 4, h, w], the network's input. */
  xT: Latents;
  /** The network's ε [B, 4, h, w] (BackboneOutput.eps). */
  eps: Latents;
  /** The network's variance values v ∈ [−1, 1] [B, 4, h, w] (BackboneOutput.variance). */
  variance: Latents;
}

/** Per-item loss terms, [B] each; `loss = mse + vb`, vb in bits. */
export interface HybridLoss {
  loss: tf.Tensor1D;
  mse: tf.Tensor1D;
  vb: tf.Tensor1D;
}

/** PixArt's `snr=True`: below this timestep the mse term compares x0 instead of ε. */
export const SNR_X0_BELOW = 250;

/** What the mse term compares: see HybridLossOptions.mse. */
export type MseTarget = 'eps' | 'snr' | 'v';

export interface HybridLossOptions {
  /**
   * - `eps` (MIGE): (ε − ε̂)².
   * - `snr`: PixArt's IDDPM `snr=True`: the x0 error (x0 − x̂0)² for t < 250 and ε above, which
   *   divides the low-t terms by their SNR (> 1.1) so they no longer dominate.
   * - `v`: the v-prediction loss (v − v̂)² = (ε − ε̂)²/ᾱ_t (Salimans & Ho 2022): ε's at low t,
   *   tending to the x0 error at high t, where ε's loss barely weighs x0 (its weight is the SNR,
   *   0.03 at t = 600) although that is where an instruction decides the image's layout and colours.
   */
  mse?: MseTarget;
  /**
   * Caps the `v` weight 1/ᾱ_t (24,700 at t = 999). An ε network gets a gradient that much larger
   * there, so uncapped the few top-noise items of a batch drown the rest.
   */
  maxWeight?: number;
  /** Per-element weights of the mse term, broadcast to [B, C, h, w] (e.g. editFocusWeights' [B, 1, h, w]). */
  weight?: tf.Tensor;
}

/**
 * training_losses for LossType.MSE with a learned-range variance: `mse` = mean (noise − ε)²
 * trains ε; `vb` sees ε through a stop-gradient (the reference's `frozen_out`), so it trains only
 * the variance. Differentiable w.r.t. `eps` and `variance` (tf.grad / tf.variableGrads).
 */
export function hybridLoss(input: HybridLossInput, tables: DdpmSchedule = iddpmTables(), options: HybridLossOptions = {}): HybridLoss {
  const { x0, noise, xT, eps, variance } = input;
  checkShapes('hybridLoss', {
    x0: [x0, ['B', 'C', 'H', 'W']],
    noise: [noise, ['B', 'C', 'H', 'W']],
    xT: [xT, ['B', 'C', 'H', 'W']],
    eps: [eps, ['B', 'C', 'H', 'W']],
    variance: [variance, ['B', 'C', 'H', 'W']],
  });
  const steps = timestepIndices(input.t, x0.shape[0], tables.numSteps, 'hybridLoss');
  return tf.tidy(() => {
    const vb = vbTermsBpd(x0, xT, steps, stopGradient(eps), variance, tables);
    const epsError = tf.square(tf.sub(noise, eps));
    const term = mseTerm(options.mse ?? 'eps', options.maxWeight ?? Infinity, epsError, () => tf.square(tf.sub(x0, predictXstart(xT, eps, steps, tables))), steps, tables);
    const mse = meanFlat(options.weight ? tf.mul(term, options.weight) : term);
    return { loss: tf.add(mse, vb) as tf.Tensor1D, mse, vb };
  });
}
