import { MigeInputError, tf } from '@mige/core';
import type { TrainExample } from './train-data.js';

/** A pixel counts as edited when a channel moves by more than this (VAE inputs span [-1, 1]). */
const CHANGED = 0.1;

/**
 * Which latent cells editFocusWeights weighs up:
 * - 'changed': those an edit changes (source vs target pixels). Fastest where objects change, but
 *   the weights then depend on the answer, so a model that cannot yet place an edit learns to
 *   change whatever it is unsure of (RUNS.md: others-unchanged fell from 0.87 to 0.33-0.52).
 * - 'objects': those of every object in the source or the target (the world's annotations), so
 *   the edited object weighs no more than the ones to keep.
 */
export type FocusOn = 'changed' | 'objects';

export interface EditFocusOptions {
  on?: FocusOn;
  /** Items to leave uniform, e.g. those whose instruction or source condition dropout removed. */
  skip?: readonly boolean[];
}

/**
 * Per-element weights [B, 1, s, s] of the loss's mse term that put `focus` times more weight on
 * the cells of an edit's objects. An object-level edit changes ~5% of the image, so under a
 * uniform loss copying the source is almost optimal and a small model learns to bind "the red
 * star" to a place very slowly (RUNS.md). The chosen cells (any chosen pixel under the cell,
 * dilated by one cell for the VAE's receptive field) get 1 + focus, the rest 1; each item is then
 * scaled to mean 1, so items keep equal weight. Items without a source (subject-driven
 * generation) and skipped items stay uniform. Not in the reference (focus 0).
 */
export function editFocusWeights(examples: readonly TrainExample[], latentSize: number, focus: number, options: EditFocusOptions = {}): tf.Tensor4D {
  if (!(focus >= 0 && Number.isFinite(focus))) throw new MigeInputError(`focus must be a finite number >= 0, got ${focus}`, 'editFocusWeights');
  const on = options.on ?? 'changed';
  const s = latentSize;
  const out = new Float32Array(examples.length * s * s).fill(1);
  examples.forEach((ex, i) => {
    if (!ex.source || focus === 0 || options.skip?.[i]) return;
    const { width, height } = ex.target;
    if (ex.source.width !== width || ex.source.height !== height) throw new MigeInputError(`source ${ex.source.width}x${ex.source.height} and target ${width}x${height} differ`, `example ${i}`);
    const f = width / s;
    if (!Number.isInteger(f) || height / s !== f) throw new MigeInputError(`image ${width}x${height} is not a multiple of the latent size ${s}`, `example ${i}`);
    const chosen = on === 'objects' ? objectsOf(ex, i) : changedPixels(ex);
    const cells = new Uint8Array(s * s);
    chosen.forEach((v, p) => {
      if (v) cells[Math.floor(Math.floor(p / width) / f) * s + Math.floor((p % width) / f)] = 1;
    });
    const w = out.subarray(i * s * s, (i + 1) * s * s);
    let sum = 0;
    for (let y = 0; y < s; y++) for (let x = 0; x < s; x++) {
      let near = 0;
      for (let yy = Math.max(0, y - 1); yy <= Math.min(s - 1, y + 1) && !near; yy++) {
        for (let xx = Math.max(0, x - 1); xx <= Math.min(s - 1, x + 1); xx++) if (cells[yy * s + xx]) near = 1;
      }
      w[y * s + x] = 1 + focus * near;
      sum += w[y * s + x] as number;
    }
    const mean = sum / (s * s);
    for (let k = 0; k < w.length; k++) w[k] = (w[k] as number) / mean;
  });
  return tf.tensor4d(out, [examples.length, 1, s, s]);
}

function changedPixels(ex: TrainExample): Uint8Array {
  const { target } = ex, source = ex.source as TrainExample['target'];
  const plane = target.width * target.height;
  const out = new Uint8Array(plane);
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < 3; c++) {
      if (Math.abs((target.data[c * plane + p] as number) - (source.data[c * plane + p] as number)) > CHANGED) { out[p] = 1; break; }
    }
  }
  return out;
}

function objectsOf(ex: TrainExample, i: number): Uint8Array {
  if (!ex.objects) throw new MigeInputError("focus on 'objects' needs object annotations (synthetic-world data); use 'changed' for MIGE records", `example ${i}`);
  const objects = ex.objects();
  if (objects.length !== ex.target.width * ex.target.height) throw new MigeInputError(`objects has ${objects.length} pixels, the target ${ex.target.width * ex.target.height}`, `example ${i}`);
  return objects;
}
