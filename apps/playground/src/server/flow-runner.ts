import { encodeImage, MigeAbortError, MigeInputError, type RgbImage } from '@mige/core';
import type { MigeModel } from '@mige/pipelines';
import type { JobEvent } from '../api/api-types.js';
import { pngDataUrl } from './data-url.js';
import type { JobRunner } from './job-queue.js';
import type { JobSpec } from './job-spec.js';
import { autoPreviewEvery, runJob } from './run-job.js';

async function toDataUrls(images: readonly RgbImage[]): Promise<string[]> {
  return Promise.all(images.map(async (img) => pngDataUrl(await encodeImage(img, 'png'))));
}

/** The queue's runner for one model: flow events → API events; a cancelled run ends with `cancelled`, bad input with `error`. */
export function flowRunner(model: MigeModel, options: { previewEvery?: number; log?: (message: string) => void }): JobRunner<JobSpec> {
  return async (spec, signal, emit) => {
    const started = performance.now();
    const previews: Promise<void>[] = [];
    try {
      const result = await runJob(model, spec, {
        signal,
        previewEvery: options.previewEvery ?? autoPreviewEvery(spec.options.steps),
        onProgress: (step, total) => emit({ type: 'progress', step, total }),
        onPreview: (step, images) => {
          previews.push(toDataUrls(images).then((urls) => emit({ type: 'preview', step, images: urls })));
        },
      });
      try {
        await Promise.all(previews);
        const done: JobEvent = {
          type: 'done',
          images: result.images.map((img) => pngDataUrl(img.png)),
          params: result.images.map((img) => img.params),
          warnings: result.warnings,
          seconds: Math.round(performance.now() - started) / 1000,
        };
        return done;
      } finally {
        result.tensor.dispose();
      }
    } catch (e) {
      await Promise.allSettled(previews);
      if (e instanceof MigeAbortError || signal.aborted) return { type: 'cancelled', reason: String((signal.reason as Error | undefined)?.message ?? 'cancelled') };
      if (e instanceof MigeInputError) return { type: 'error', message: e.message };
      options.log?.(`job failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      return { type: 'error', message: `the model failed: ${e instanceof Error ? e.message : String(e)}` };
    }
  };
}
