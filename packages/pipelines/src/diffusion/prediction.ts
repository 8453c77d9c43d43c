import { MigeInputError, tf, type Latents } from '@mige/core';
import { NoiseScheduleVP } from './noise-schedule-vp.js';

/**
 * What the backbone's first output half predicts: ε (MIGE, PixArt) or v = α_t·ε − σ_t·x0
 * (Salimans & Ho 2022), from which x0 = α_t·x_t − σ_t·v stays well-conditioned at high noise.
 */
export type Prediction = 'epsilon' | 'v';

let vp: NoiseScheduleVP | undefined;

/** ε = α·v + σ·x, with α, σ numbers or tensors that broadcast per item ([B, 1, 1, 1]). v, x: [B, C, h, w]. */
export function vToEps(v: Latents, x: Latents, alpha: number | tf.Tensor, sigma: number | tf.Tensor): Latents {
  return tf.tidy(() => tf.add(tf.mul(v, alpha), tf.mul(x, sigma)) as Latents);
}

/**
 * The network's output as ε for the samplers: itself, or from v, ε = α_t·v + σ_t·x_t. `modelTime`
 * is on the network's 0 … 999 axis; between steps (DPM-Solver) α and σ follow the discrete
 * schedule's interpolation. out, x: [B, C, h, w].
 */
export function epsFromOutput(prediction: Prediction, out: Latents, x: Latents, modelTime: number): Latents {
  if (prediction === 'epsilon') return out;
  if (prediction !== 'v') throw new MigeInputError(`prediction must be 'epsilon' or 'v', got ${JSON.stringify(prediction)}`, 'epsFromOutput');
  vp ??= new NoiseScheduleVP();
  const t = modelTime / 1000 + 1 / vp.totalN;
  return vToEps(out, x, vp.marginalAlpha(t), vp.marginalStd(t));
}
