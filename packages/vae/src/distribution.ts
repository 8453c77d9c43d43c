import { MigeInputError, tf, type LatentDistribution, type Latents, type Rng } from '@mige/core';

/** diffusers clamps the log-variance to this range before taking the std. */
export const LOGVAR_RANGE: readonly [number, number] = [-30, 20];

/**
 * diffusers' DiagonalGaussianDistribution over unscaled latents. It owns its tensors: call
 * `dispose()` when done (the results of `sample` and `mode` are the caller's).
 */
export class DiagonalGaussianDistribution implements LatentDistribution {
  /** [B, C, h, w] */
  readonly mean: Latents;
  /** [B, C, h, w], clamped to [-30, 20]. */
  readonly logvar: Latents;
  /** exp(0.5·logvar), [B, C, h, w]. */
  readonly std: Latents;

  /** moments [B, 2C, h, w]: the mean in channels [0, C), the log-variance in [C, 2C). */
  constructor(moments: tf.Tensor4D) {
    const [b, c2, h, w] = moments.shape;
    if (c2 % 2 !== 0) throw new MigeInputError(`moments have ${c2} channels, expected an even count`, 'DiagonalGaussianDistribution');
    const c = c2 / 2;
    const { mean, logvar, std } = tf.tidy(() => {
      const m = tf.slice(moments, [0, 0, 0, 0], [b, c, h, w]);
      const lv = tf.clipByValue(tf.slice(moments, [0, c, 0, 0], [b, c, h, w]), LOGVAR_RANGE[0], LOGVAR_RANGE[1]);
      return { mean: m, logvar: lv, std: tf.exp(tf.mul(lv, 0.5)) };
    });
    this.mean = mean as Latents;
    this.logvar = logvar as Latents;
    this.std = std as Latents;
  }

  /**
   * mean + std·ε. ε comes from `rng` in NCHW order: one generator draws the whole batch in
   * turn; an array gives item i its own generator rng[i], so an item's sample does not depend
   * on the rest of the batch.
   */
  sample(rng: Rng | Rng[]): Latents {
    const [b, c, h, w] = this.mean.shape;
    const perItem = c * h * w;
    const eps = new Float32Array(b * perItem);
    if (Array.isArray(rng)) {
      if (rng.length !== b) {
        throw new MigeInputError(`got ${rng.length} generators for a batch of ${b}; pass one per item or a single one`, 'LatentDistribution.sample');
      }
      rng.forEach((r, i) => r.fillNormal(eps.subarray(i * perItem, (i + 1) * perItem)));
    } else {
      rng.fillNormal(eps);
    }
    return tf.tidy(() => tf.add(this.mean, tf.mul(this.std, tf.tensor4d(eps, [b, c, h, w]))));
  }

  /** The mean (a new handle: disposing it leaves the distribution intact). */
  mode(): Latents {
    return tf.clone(this.mean);
  }

  dispose(): void {
    tf.dispose([this.mean, this.logvar, this.std]);
  }
}
