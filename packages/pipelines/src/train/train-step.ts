import { MigeInputError, Rng, tf, type Latents } from '@mige/core';
import { extractIntoTensor, hybridLoss, qSample, type HybridLossOptions } from '../loss/index.js';
import { iddpmTables, vToEps } from '../diffusion/index.js';
import type { MigeModel } from '../model/index.js';
import { applyCfgDropout, cfgDropoutDecisions, type CfgDropoutProbs } from './cfg-dropout.js';
import type { TrainBatch } from './train-batch.js';

/** Everything random in one micro-batch's loss, drawn up front from the step's own stream. */
export interface StepDraws {
  /** Timesteps [B], uniform over 0..N-1. */
  t: Int32Array;
  /** ε [B, 4, h, w]. */
  noise: Latents;
  dropY: boolean[];
  dropSource: boolean[];
}

export interface DropoutConfig extends CfgDropoutProbs {
  /**
   * The reference's y_embedder also replaces y by the null condition with this probability,
   * independently (CaptionEmbedder.token_drop with class_dropout_prob 0.1, active in training).
   */
  caption: number;
}

/**
 * Draws the step's randomness. `timestepPower` k: t has density ∝ t^(k − 1) (inverse CDF
 * of u^(1/k)); 1 keeps the reference's uniform draw, draw for draw.
 */
export function drawStep(rng: Rng, batch: number, latentShape: [number, number, number], numTimesteps: number, dropout: DropoutConfig, timestepPower = 1): StepDraws {
  const t = new Int32Array(batch);
  const tRng = rng.fork('t');
  for (let i = 0; i < batch; i++) {
    t[i] = timestepPower === 1 ? tRng.int(0, numTimesteps) : Math.min(numTimesteps - 1, Math.floor(numTimesteps * tRng.uniform() ** (1 / timestepPower)));
  }
  const noise = rng.fork('noise').randn([batch, ...latentShape]) as Latents;
  const { dropY, dropSource } = cfgDropoutDecisions(rng.fork('cfg'), batch, dropout);
  if (!(dropout.caption >= 0 && dropout.caption <= 1)) throw new MigeInputError(`caption dropout must be in [0, 1], got ${dropout.caption}`, 'dropout');
  const capRng = rng.fork('caption');
  for (let i = 0; i < batch; i++) if (capRng.uniform() < dropout.caption) dropY[i] = true;
  return { t, noise, dropY, dropSource };
}

/**
 * The training loss of one micro-batch (mean over items of the IDDPM hybrid loss): instruction
 * encoder → y, condition dropout, x_t = q(x_t | x0), backbone → (ε, v), loss. Call inside
 * tf.variableGrads: gradients reach the encoder (but the frozen ViT), fusion and the backbone.
 */
export function batchLoss(model: MigeModel, batch: TrainBatch, draws: StepDraws, options: HybridLossOptions = {}): tf.Scalar {
  return tf.mean(itemLosses(model, batch, draws, options)) as tf.Scalar;
}

/** batchLoss before the mean: each item's IDDPM hybrid loss [B]. */
export function itemLosses(model: MigeModel, batch: TrainBatch, draws: StepDraws, options: HybridLossOptions = {}): tf.Tensor1D {
  const { y, mask } = model.encoder.encode(batch.inputs, { fusion: model.fusion, patchEmbedder: model.backbone.patchEmbedder });
  const nullY = model.backbone.nullCondition();
  const dropped = applyCfgDropout({ y, cond: batch.cond }, { dropY: draws.dropY, dropSource: draws.dropSource }, nullY);
  const xT = qSample(batch.x0, draws.t, draws.noise);
  const out = model.backbone.forward({ x: xT, cond: dropped.cond, t: tf.tensor1d(Array.from(draws.t), 'float32'), y: dropped.y, mask });
  if (!out.variance) throw new MigeInputError('training needs a backbone with learned sigma (learnSigma: true) for the hybrid loss', 'train');
  // A v model's output becomes ε = α_t·v + σ_t·x_t; with the 'v' mse that is exactly (v − v̂)².
  const steps = Array.from(draws.t), tables = iddpmTables();
  const eps = model.config.prediction === 'v'
    ? vToEps(out.eps, xT, extractIntoTensor(tables.sqrtAlphasCumprod, steps), extractIntoTensor(tables.sqrtOneMinusAlphasCumprod, steps))
    : out.eps;
  return hybridLoss({ x0: batch.x0, t: draws.t, noise: draws.noise, xT, eps, variance: out.variance }, undefined, options).loss as tf.Tensor1D;
}
