import type { RgbImage } from '@mige/core';
import { compose, edit, generate, type FlowOptions, type FlowResult } from '../flows/index.js';
import type { MigeModel } from '../model/index.js';
import type { FlowJob } from './flow-request.js';

/** Progress hooks of one run: `onPreview` gets the decoded x0 predictions every `previewEvery` steps (0: never). */
export interface FlowJobHooks {
  signal?: AbortSignal;
  previewEvery?: number;
  onProgress?: (step: number, total: number) => void;
  onPreview?: (step: number, images: RgbImage[]) => void;
}

/** Runs a checked request's flow on the model; throws MigeAbortError when `signal` aborts. The caller disposes `tensor`. */
export async function runFlowJob(model: MigeModel, job: FlowJob, hooks: FlowJobHooks = {}): Promise<FlowResult> {
  const options: FlowOptions = {
    ...job.options,
    ...(hooks.signal ? { signal: hooks.signal } : {}),
    previewEvery: hooks.previewEvery ?? 0,
    onStep: (step, total, preview) => {
      hooks.onProgress?.(step, total);
      if (preview) hooks.onPreview?.(step, preview);
    },
  };
  const { instruction, images } = job;
  switch (job.flow) {
    case 'generate':
      return generate(model, { instruction, images }, options);
    case 'edit':
      return edit(model, { instruction, source: job.source ?? (images[0] as RgbImage) }, options);
    case 'compose': {
      if (job.source) {
        return compose(model, { instruction, source: job.source, subjects: images, ...(job.sourceSlot !== undefined ? { sourceSlot: job.sourceSlot } : {}) }, options);
      }
      const slot = job.sourceSlot ?? 0;
      const subjects = images.filter((_, i) => i !== slot);
      return compose(model, { instruction, source: images[slot] as RgbImage, subjects, sourceSlot: slot }, options);
    }
  }
}

/** About ten previews per run, never more often than every step. */
export function autoPreviewEvery(steps: number): number {
  return Math.max(1, Math.ceil(steps / 10));
}
