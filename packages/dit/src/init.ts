import { nn, tf } from '@mige/core';

/**
 * Helpers for the reference's `initialize_weights`. Draws come from core's init generator, so
 * `nn.manualSeed` makes a fresh model reproducible.
 */

/** Replaces a parameter's value, taking ownership of `value`. */
export function setParam(p: tf.Variable, value: tf.Tensor): void {
  tf.tidy(() => p.assign(tf.reshape(value, p.shape)));
  value.dispose();
}

/** xavier_uniform_ on a weight viewed as [out, rest] (a conv kernel is treated as a Linear). */
export function xavierInit(p: tf.Variable): void {
  const [out, ...rest] = p.shape as [number, ...number[]];
  setParam(p, nn.xavierUniform([out, rest.reduce((a, b) => a * b, 1)]));
}

export function normalParamInit(p: tf.Variable, std: number): void {
  setParam(p, nn.normalInit([...p.shape], std));
}

export function zeroInit(p: tf.Variable): void {
  setParam(p, tf.zeros(p.shape));
}

/** Every module of a tree, depth first (the tree itself included). */
export function* modulesOf(m: nn.Module): IterableIterator<nn.Module> {
  yield m;
  for (const [, child] of m.namedChildren()) yield* modulesOf(child);
}

/** PixArt's and DiT's `_basic_init`: every Linear gets xavier-uniform weights and zero biases. */
export function basicLinearInit(root: nn.Module): void {
  for (const m of modulesOf(root)) {
    if (!(m instanceof nn.Linear)) continue;
    xavierInit(m.weight);
    if (m.bias) zeroInit(m.bias);
  }
}
