import { encodeImage, type RgbImage } from '@mige/core';
import type { JobProducer } from '@mige/jobs';
import { autoPreviewEvery, pngDataUrl, SAMPLERS, type FlowRequest, type SamplerName } from '@mige/pipelines';
import type { JobEvent } from '../api/api-types.js';
import type { JobRunner } from './job-queue.js';
import type { JobSpec } from './job-spec.js';

async function dataUrl(img: RgbImage): Promise<string> {
  return pngDataUrl(await encodeImage(img, 'png'));
}

/**
 * A checked job back into a request for the workers: images as PNG (lossless, so a worker
 * decodes the very pixels this server decoded), every setting explicit. The validator puts a
 * named sampler's own SAMPLERS entry in the job; any other configuration is the model's
 * default, which the worker (same model) fills in itself.
 */
export async function requestFromJob(spec: JobSpec): Promise<FlowRequest> {
  const sampler = (Object.keys(SAMPLERS) as SamplerName[]).find((name) => SAMPLERS[name] === spec.options.sampler);
  const { steps, scales, seed, numImages } = spec.options;
  return {
    flow: spec.flow,
    instruction: spec.instruction,
    images: await Promise.all(spec.images.map(dataUrl)),
    ...(spec.source ? { source: await dataUrl(spec.source) } : {}),
    ...(spec.sourceSlot !== undefined ? { sourceSlot: spec.sourceSlot } : {}),
    steps,
    scales: { y: scales.y, s: scales.s },
    seed,
    numImages,
    ...(sampler ? { sampler } : {}),
  };
}

/**
 * The playground's runner on a BullMQ job queue (`--redis`): each job goes to the workers, its
 * events come back as the API's (`queued` with its place in the workers' queue while it waits
 * there), and a cancelled job is cancelled on the queue.
 */
export function redisRunner(producer: JobProducer, options: { previewEvery?: number } = {}): JobRunner<JobSpec> {
  return async (spec, signal, emit) => {
    const request = await requestFromJob(spec);
    const { id, events } = await producer.submit(request, { previewEvery: options.previewEvery ?? autoPreviewEvery(spec.options.steps) });
    const cancel = () => void producer.cancel(id, String((signal.reason as Error | undefined)?.message ?? 'cancelled')).catch(() => {});
    if (signal.aborted) cancel();
    else signal.addEventListener('abort', cancel, { once: true });
    try {
      for await (const e of events) {
        switch (e.type) {
          case 'waiting':
            emit({ type: 'queued', position: e.position ?? 1 });
            break;
          case 'active':
            emit({ type: 'queued', position: 0 });
            break;
          case 'progress':
            emit({ type: 'progress', step: e.step, total: e.total });
            break;
          case 'preview':
            emit({ type: 'preview', step: e.step, images: e.images.map(pngDataUrl) });
            break;
          case 'done': {
            const { images, params, warnings, seconds } = e.result;
            return { type: 'done', images: images.map(pngDataUrl), params, warnings, seconds } satisfies JobEvent;
          }
          case 'failed':
            return { type: 'error', message: e.message };
          case 'cancelled':
            return { type: 'cancelled', reason: e.reason };
          case 'delayed':
            break;
        }
      }
      return { type: 'error', message: `job ${id}: its events ended without a result` };
    } finally {
      signal.removeEventListener('abort', cancel);
      await events.return(undefined);
    }
  };
}
