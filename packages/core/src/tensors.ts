import type * as tf from '@tensorflow/tfjs-core';
import { MigeInputError } from './errors.js';

/**
 * Tensors that cross package boundaries. The aliases carry the layout in their docs; the
 * runtime checks below enforce it at public entry points.
 */

/** Images [B, 3, H, W], float32 in [-1, 1]. */
export type ImageBatch = tf.Tensor4D;
/** VAE latents [B, 4, h, w] (h = H/8), scaled by the VAE's scaling factor unless said otherwise. */
export type Latents = tf.Tensor4D;
/** Token sequences [B, L, D]. */
export type TokenSequence = tf.Tensor3D;
/** Attention mask [B, L]: 1 for a valid token, 0 for padding. */
export type TokenMask = tf.Tensor2D;
/** Diffusion timesteps [B] (float, 0..999 for the DDPM schedule). */
export type Timesteps = tf.Tensor1D;

/** One dimension of an expected shape: a fixed size, a symbol bound on first use, or any (`*`). */
export type Dim = number | string;

function show(dims: readonly (number | string)[]): string {
  return `[${dims.join(', ')}]`;
}

/**
 * Checks several tensors' shapes together. Symbolic dims (`'B'`, `'L'`) must agree across all
 * tensors in one call; `'*'` matches anything. Throws a MigeInputError that names the tensor,
 * the expected and the actual shape.
 *
 *   checkShapes('DiT.forward', { x: [x, ['B', 4, 'H', 'W']], mask: [mask, ['B', 'L']] })
 */
export function checkShapes(
  where: string,
  specs: Record<string, readonly [{ shape: readonly number[] } | undefined, readonly Dim[]]>,
): Record<string, number> {
  const bound: Record<string, number> = {};
  for (const [name, [t, expected]] of Object.entries(specs)) {
    if (!t) throw new MigeInputError(`${name} is missing; expected shape ${show(expected)}`, where);
    const actual = t.shape;
    const resolved = expected.map((d) => (typeof d === 'string' && d in bound ? `${d}=${bound[d]}` : d));
    const fail = (why: string): never => {
      throw new MigeInputError(
        `${name} has shape ${show(actual)}, expected ${show(resolved)} (${why})`,
        where,
      );
    };
    if (actual.length !== expected.length) fail(`rank ${actual.length}, expected rank ${expected.length}`);
    expected.forEach((d, i) => {
      const a = actual[i] as number;
      if (d === '*') return;
      if (typeof d === 'number') {
        if (a !== d) fail(`dim ${i} must be ${d}`);
      } else if (d in bound) {
        if (a !== bound[d]) fail(`dim ${i} (${d}) must be ${bound[d]}`);
      } else {
        bound[d] = a;
      }
    });
  }
  return bound;
}
