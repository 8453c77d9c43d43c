import { tf } from '@mige/core';

/**
 * The density terms of IDDPM's diffusion_utils.py / losses.py, in tf ops so gradients flow.
 * Shapes broadcast as in torch; the inputs are latents [B, C, h, w].
 */

/** mean_flat: the mean over every axis but the batch axis, [B, ...] → [B]. */
export function meanFlat(x: tf.Tensor): tf.Tensor1D {
  return tf.mean(x, x.shape.map((_, i) => i).slice(1)) as tf.Tensor1D;
}

/** normal_kl: KL(N(mean1, e^logvar1) ‖ N(mean2, e^logvar2)), elementwise, in nats. */
export function normalKl(mean1: tf.Tensor, logvar1: tf.Tensor, mean2: tf.Tensor, logvar2: tf.Tensor): tf.Tensor {
  return tf.tidy(() =>
    tf.mul(
      0.5,
      tf.add(
        tf.add(tf.sub(tf.add(-1, logvar2), logvar1), tf.exp(tf.sub(logvar1, logvar2))),
        tf.mul(tf.square(tf.sub(mean1, mean2)), tf.exp(tf.neg(logvar2))),
      ),
    ),
  );
}

/** approx_standard_normal_cdf: 0.5·(1 + tanh(√(2/π)·(x + 0.044715·x³))). */
export function approxStandardNormalCdf(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() =>
    tf.mul(0.5, tf.add(1, tf.tanh(tf.mul(Math.sqrt(2 / Math.PI), tf.add(x, tf.mul(0.044715, tf.pow(x, 3)))))))
  );
}

/** log(max(x, 1e-12)), as the reference's `th.log(x.clamp(min=1e-12))`. */
function clampedLog(x: tf.Tensor): tf.Tensor {
  return tf.log(tf.maximum(x, 1e-12));
}

/**
 * discretized_gaussian_log_likelihood: log-likelihood of `x` (targets in [−1, 1], data
 * discretised to 256 levels, bins ±1/255) under N(means, e^(2·logScales)), elementwise, nats.
 * The edge bins are open: x < −0.999 uses log CDF(upper), x > 0.999 uses log(1 − CDF(lower)).
 */
export function discretizedGaussianLogLikelihood(x: tf.Tensor, means: tf.Tensor, logScales: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const centeredX = tf.sub(x, means);
    const invStdv = tf.exp(tf.neg(logScales));
    const cdfPlus = approxStandardNormalCdf(tf.mul(invStdv, tf.add(centeredX, 1 / 255)));
    const cdfMin = approxStandardNormalCdf(tf.mul(invStdv, tf.sub(centeredX, 1 / 255)));
    const logCdfPlus = clampedLog(cdfPlus);
    const logOneMinusCdfMin = clampedLog(tf.sub(1, cdfMin));
    const logCdfDelta = clampedLog(tf.sub(cdfPlus, cdfMin));
    const shape = logCdfDelta.shape;
    const xFull = tf.broadcastTo(x, shape);
    return tf.where(
      tf.less(xFull, -0.999),
      tf.broadcastTo(logCdfPlus, shape),
      tf.where(tf.greater(xFull, 0.999), tf.broadcastTo(logOneMinusCdfMin, shape), logCdfDelta),
    );
  });
}
