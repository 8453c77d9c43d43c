import type { RgbImage } from '@mige/core';
import { compose, edit, generate, type FlowOptions, type FlowResult, type MigeModel } from '@mige/pipelines';
import type { JobSpec } from './job-spec.js';

/** Progress hooks of one run: `onPreview` gets the decoded x0 predictions every `previewEvery` steps. */
export interface RunHooks {
  signal: AbortSignal;
  previewEvery: number;
  onProgress: (step: number, total: number) => void;
  onPreview: (step: number, images: RgbImage[]) => void;
}

/** Runs the job's flow on the model; throws MigeAbortError when `signal` aborts. The caller disposes `tensor`. */
export async function runJob(model: MigeModel, spec: JobSpec, hooks: RunHooks): Promise<FlowResult> {
  const options: FlowOptions = {
    ...spec.options,
    signal: hooks.signal,
    previewEvery: hooks.previewEvery,
    onStep: (step, total, preview) => {
      hooks.onProgress(step, total);
      if (preview) hooks.onPreview(step, preview);
    },
  };
  const { instruction, images } = spec;
  switch (spec.flow) {
    case 'generate':
      return generate(model, { instruction, images }, options);
    case 'edit':
      return edit(model, { instruction, source: spec.source ?? (images[0] as RgbImage) }, options);
    case 'compose': {
      if (spec.source) {
        return compose(model, { instruction, source: spec.source, subjects: images, ...(spec.sourceSlot !== undefined ? { sourceSlot: spec.sourceSlot } : {}) }, options);
      }
      const slot = spec.sourceSlot ?? 0;
      const subjects = images.filter((_, i) => i !== slot);
      return compose(model, { instruction, source: images[slot] as RgbImage, subjects, sourceSlot: slot }, options);
    }
  }
}

/** About ten previews per run, never more often than every step. */
export function autoPreviewEvery(steps: number): number {
  return Math.max(1, Math.ceil(steps / 10));
}
