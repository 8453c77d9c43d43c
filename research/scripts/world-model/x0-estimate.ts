/**
 * What diagnose.ts and x0-probe.ts share: a clean latent noised to timestep t with a fixed noise
 * per t (so every run and script sees the same x_t), the model's ε and x0 estimates from it, and
 * the decoding of latents for grids.
 */
import { Rng, tensorToImages, tf, type Latents, type RgbImage } from '@mige/core';
import { ddpmTables, epsFromOutput, linearBetas } from '../../../packages/pipelines/src/diffusion/index.js';
import type { MigeModel } from '../../../packages/pipelines/src/model/index.js';

const { alphasCumprod } = ddpmTables(linearBetas(1000));

/** One way to condition the DiT: the conditional latent and the instruction's y and mask. */
export interface Conditioning { cond: tf.Tensor4D; y: tf.Tensor3D; mask: tf.Tensor2D }

/** x0 [B, C, H, W] noised to t; per conditioning, the ε and x0 the model estimates. Call inside tf.tidy. */
export function estimatesAt(model: MigeModel, x0: tf.Tensor4D, t: number, runs: readonly Conditioning[]): { noise: tf.Tensor; snr: number; estimates: { eps: tf.Tensor; x0: tf.Tensor }[] } {
  const ab = alphasCumprod[t] as number;
  const [alpha, sigma] = [Math.sqrt(ab), Math.sqrt(1 - ab)];
  const noise = new Rng(`noise/${t}`).randn(x0.shape);
  const xt = tf.add(tf.mul(x0, alpha), tf.mul(noise, sigma)) as tf.Tensor4D;
  const estimates = runs.map(({ cond, y, mask }) => {
    const out = model.backbone.forward({ x: xt, cond, t: tf.fill([x0.shape[0]], t), y, mask });
    const eps = epsFromOutput(model.config.prediction ?? 'epsilon', out.eps, xt as Latents, t);
    return { eps, x0: tf.div(tf.sub(xt, tf.mul(eps, sigma)), alpha) };
  });
  return { noise, snr: ab / (1 - ab), estimates };
}

export const rms = (t: tf.Tensor): number => Math.sqrt(tf.tidy(() => tf.mean(tf.square(t)).dataSync()[0] as number));

/** Scaled latents [B, C, H, W] → images, through the model's VAE. */
export function decodeLatents(model: MigeModel, latents: tf.Tensor): RgbImage[] {
  const images = tf.tidy(() => model.vae.decode(tf.div(latents, model.vae.scalingFactor) as Latents) as tf.Tensor4D);
  try { return tensorToImages(images); } finally { images.dispose(); }
}
