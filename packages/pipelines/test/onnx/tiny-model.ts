import { Rng, tf } from '@mige/core';
import { MIGE_TINY, MigeModel, type MigeConfig } from '../../src/index.js';

/**
 * The tiny MIGE model with every all-zero parameter (the DiT's and FFM's zero-initialised output
 * layers, and the zero biases) redrawn from N(0, 0.05²), so every component's output depends on
 * every layer and a wrong emitter cannot hide behind a zero weight.
 */
export function tinyModelForExport(seed = 0, config: Readonly<MigeConfig> = MIGE_TINY): MigeModel {
  const model = MigeModel.create(config, { seed });
  const rng = new Rng(seed + 1000);
  const params: tf.Variable[] = [...model.namedParameters().map(([, p]) => p), ...model.vae.namedParameters().map(([, p]) => p)];
  for (const p of params) {
    const allZero = tf.tidy(() => tf.max(tf.abs(p)).dataSync()[0] === 0);
    if (allZero) tf.tidy(() => p.assign(rng.randn([...p.shape], 0, 0.05)));
  }
  return model;
}

/** A seeded N(0, std²) tensor. */
export function randn<T extends tf.Tensor>(rng: Rng, shape: number[], std = 1): T {
  return rng.randn(shape, 0, std) as T;
}
