import { MigeInputError, tf } from '@mige/core';

/** Integer diffusion timesteps, one per batch item: a JS array or a [B] tensor. */
export type TimestepIndices = Int32Array | readonly number[] | tf.Tensor1D;

/**
 * The timesteps as JS integers, checked: `batch` of them, each an integer in [0, numTimesteps).
 * `where` names the caller in the error.
 */
export function timestepIndices(t: TimestepIndices, batch: number, numTimesteps: number, where: string): number[] {
  const values = t instanceof tf.Tensor ? Array.from(t.dataSync()) : Array.from(t);
  if (values.length !== batch) {
    throw new MigeInputError(`t has ${values.length} timesteps but the batch has ${batch} items`, where);
  }
  values.forEach((v, i) => {
    if (!Number.isInteger(v) || v < 0 || v >= numTimesteps) {
      throw new MigeInputError(`t[${i}] = ${v} is not an integer timestep in 0..${numTimesteps - 1}`, where);
    }
  });
  return values;
}

/**
 * _extract_into_tensor: `table[t]` cast to float32 (the reference's `.float()`), shaped
 * [B, 1, 1, 1] to broadcast over latents.
 */
export function extractIntoTensor(table: Float64Array, t: readonly number[]): tf.Tensor4D {
  return tf.tensor4d(Float32Array.from(t, (i) => table[i] as number), [t.length, 1, 1, 1]);
}
