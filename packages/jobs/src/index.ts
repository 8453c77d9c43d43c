/**
 * @mige/jobs: MIGE.js generation jobs on BullMQ workers over Redis. A producer enqueues
 * generate / edit / compose requests (the playground's JSON requests) and follows them; workers
 * load a model once and run them. See README.md.
 */
export const packageName = '@mige/jobs';

export { JobProducer, type ProducerOptions, type EnqueueRequest, type EnqueueOptions } from './producer.js';
export { FlowWorker, type FlowWorkerOptions } from './worker.js';
export { JobFailedError, JobCancelledError, type JobEvent, type JobInfo, type JobResult, type JobState } from './job-events.js';
export { DEFAULT_QUEUE, DEFAULT_PREFIX, redactUrl, type QueueConfig } from './queue-config.js';
export { LocalFolderStore, STORE_REF_PREFIX, type ImageStore } from './store.js';
export { MAX_RESULT_IMAGE_BYTES, type ImageInput } from './images.js';
export { parseRateLimit, type RateLimit } from './rate-limit.js';
export { DEFAULT_PRIORITY, MAX_PRIORITY } from './wire.js';
export type { QueueMetrics, DurationStats } from './metrics.js';
