import type { FlowRequest, GenerationParams } from '@mige/pipelines';

/**
 * What a job holds in Redis. `request` is a FlowRequest whose images are PNG / JPEG data URLs
 * (inline bytes) or `store:<key>` references.
 */
export interface JobData {
  request: FlowRequest;
  /** Rate limits count job starts per client key. */
  clientKey?: string;
  /** Decode a preview every this many steps (absent or 0: none). */
  previewEvery?: number;
}

/** What a finished job holds in Redis: its images as PNG data URLs or store references. */
export interface JobReturn {
  images: string[];
  params: GenerationParams[];
  warnings: string[];
  /** Wall time of the attempt that finished, seconds. */
  seconds: number;
  /** The worker that made it. */
  worker: string;
}

/** A job's BullMQ progress: the last step done, and with a preview, its images (PNG data URLs). */
export interface JobProgressData {
  step: number;
  total: number;
  preview?: string[];
}

/** Custom event (QueueEventsProducer): asks the worker running `jobId` to stop it. */
export const CANCEL_REQUEST_EVENT = 'mige-cancel';
/** How a cancelled job's failedReason starts. */
export const CANCELLED_REASON_PREFIX = 'mige-cancelled: ';
/** The abort reason of a worker that shuts down: its job goes back to the queue. */
export const SHUTDOWN_REASON = 'mige-worker-shutdown';

/** The key suffix (QueueBase.toKey) that records a cancellation, read by workers and by state(). */
export function cancelKeySuffix(jobId: string): string {
  return `mige-cancel:${jobId}`;
}

/** Lower numbers run first; BullMQ runs jobs without a priority before all others, so every job gets one. */
export const DEFAULT_PRIORITY = 100;
export const MAX_PRIORITY = 2_097_151;
