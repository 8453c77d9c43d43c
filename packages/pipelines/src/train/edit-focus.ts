import { MigeInputError, tf } from '@mige/core';
import type { TrainExample } from './train-data.js';

/** A pixel counts as edited when a channel moves by more than this (VAE inputs span [-1, 1]). */
const CHANGED = 0.1;

/**
 * Per-element weights [B, 1, s, s] of the loss's mse term that put `focus` times more weight on
 * what an edit changes. An object-level edit changes ~5% of the image, so under a uniform loss
 * copying the source is almost optimal and a small model learns to bind "the red star" to a place
 * very slowly (RUNS.md). Edited latent cells (any changed pixel under the cell, dilated by one
 * cell for the VAE's receptive field) get 1 + focus, the rest 1; each item is then scaled to mean
 * 1, so items keep equal weight and only their pixels are re-weighted. Items without a source
 * (subject-driven generation) and unchanged items stay uniform. Not in the reference (focus 0).
 */
export function editFocusWeights(examples: readonly TrainExample[], latentSize: number, focus: number): tf.Tensor4D {
  if (!(focus >= 0 && Number.isFinite(focus))) throw new MigeInputError(`focus must be a finite number >= 0, got ${focus}`, 'editFocusWeights');
  const s = latentSize;
  const out = new Float32Array(examples.length * s * s);
  examples.forEach((ex, i) => {
    const w = out.subarray(i * s * s, (i + 1) * s * s);
    w.fill(1);
    const src = ex.source;
    if (!src || focus === 0) return;
    const { width, height } = ex.target;
    if (src.width !== width || src.height !== height) throw new MigeInputError(`source ${src.width}x${src.height} and target ${width}x${height} differ`, `example ${i}`);
    const f = width / s;
    if (!Number.isInteger(f) || height / s !== f) throw new MigeInputError(`image ${width}x${height} is not a multiple of the latent size ${s}`, `example ${i}`);
    const changed = new Uint8Array(s * s);
    const plane = width * height;
    for (let p = 0; p < plane; p++) {
      for (let c = 0; c < 3; c++) {
        if (Math.abs((ex.target.data[c * plane + p] as number) - (src.data[c * plane + p] as number)) > CHANGED) {
          const x = p % width, y = (p - x) / width;
          changed[Math.floor(y / f) * s + Math.floor(x / f)] = 1;
          break;
        }
      }
    }
    let sum = 0;
    for (let y = 0; y < s; y++) for (let x = 0; x < s; x++) {
      let near = 0;
      for (let dy = -1; dy <= 1 && !near; dy++) for (let dx = -1; dx <= 1; dx++) {
        const yy = y + dy, xx = x + dx;
        if (yy >= 0 && yy < s && xx >= 0 && xx < s && changed[yy * s + xx]) { near = 1; break; }
      }
      w[y * s + x] = 1 + focus * near;
      sum += w[y * s + x] as number;
    }
    const mean = sum / (s * s);
    for (let k = 0; k < w.length; k++) w[k] = (w[k] as number) / mean;
  });
  return tf.tensor4d(out, [examples.length, 1, s, s]);
}
