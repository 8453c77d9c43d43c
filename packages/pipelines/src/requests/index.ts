/**
 * Requests as data: the JSON form of a generate / edit / compose call that the playground's API,
 * `mige batch` and the job queue share, its validation and its run.
 */
export { FLOW_NAMES, SAMPLER_NAMES, DEFAULT_REQUEST_LIMITS, type FlowRequest, type FlowJob, type RequestLimits, type SamplerName } from './flow-request.js';
export { decodeDataUrl, decodeImageBytes, pngDataUrl, MigeRequestTooLargeError } from './image-input.js';
export { validateFlowRequest, samplerName, SAMPLERS, type RequestImageReader } from './validate-request.js';
export { runFlowJob, autoPreviewEvery, type FlowJobHooks } from './run-request.js';
