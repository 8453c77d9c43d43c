import { tf } from '@mige/core';

/**
 * torch's `.detach()`: the same values, with no gradient flowing back. tfjs-core has no
 * stop_gradient op, so this is a custom gradient that returns zeros.
 */
const detach = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const input = args[0] as tf.Tensor;
  return { value: tf.clone(input), gradFunc: (dy: tf.Tensor | tf.Tensor[]) => tf.zerosLike(dy as tf.Tensor) };
});

export function stopGradient<T extends tf.Tensor>(x: T): T {
  return detach(x) as T;
}
