/** The playground server: createServer for one model, its limits, presets and queue. */
export { createServer, type ServerOptions } from './create-server.js';
export { DEFAULT_LIMITS, resolveLimits } from './limits.js';
export { buildPresets, PRESET_SEED } from './presets.js';
export { JobQueue, type JobRunner, type JobListener } from './job-queue.js';
export { validateJobRequest, SAMPLERS } from './validate-request.js';
export { parseEventStream } from './sse.js';
export { loadPlaygroundModel, StartupError, type LoadedModel } from './load-model.js';
export type { JobSpec } from './job-spec.js';
