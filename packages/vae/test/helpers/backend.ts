import { readSafetensors, tf } from '@mige/core';
import { fixturePath } from '@mige/core/testing';

export { TEST_BACKENDS, expectClose, fixturePath, maxAbsDiff, useBackend } from '@mige/core/testing';

/** The `vae` fixture's io.safetensors tensors by name, as tf tensors. */
export function vaeFixtureIo(): (name: string) => tf.Tensor4D {
  const io = readSafetensors(fixturePath('vae/io.safetensors'));
  return (name) => {
    const t = io.get(name);
    if (!t) throw new Error(`vae fixture has no tensor ${name}`);
    return tf.tensor4d(t.data, t.shape as [number, number, number, number], 'float32');
  };
}
