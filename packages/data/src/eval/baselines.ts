import type { RgbImage } from '@mige/core';
import { SUBJECT_BACKGROUND } from '../world/palette.js';
import type { WorldExample } from '../world/types.js';

/** A model under evaluation: one output image per example. */
export type EvalModel = (example: WorldExample) => RgbImage | Promise<RgbImage>;

/** A white canvas of the target's size: what "copy the source" yields when there is no source. */
export function blankCanvas(width: number, height: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  const [r, g, b] = SUBJECT_BACKGROUND;
  for (let k = 0; k < data.length; k += 3) { data[k] = r; data[k + 1] = g; data[k + 2] = b; }
  return { width, height, data };
}

/**
 * The "I-O sim" baseline: the output is the unchanged source (a blank canvas for subject
 * generation). It scores what doing nothing scores, the floor an editor must beat.
 */
export const copySourceModel: EvalModel = (ex) => ex.source ?? blankCanvas(ex.target.width, ex.target.height);

/** The ground truth as output: the upper bound every metric should reach. */
export const groundTruthModel: EvalModel = (ex) => ex.target;
