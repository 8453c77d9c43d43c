/**
 * Requests as data: the JSON form of a generate / edit / compose call that the playground's API,
 * `mige batch` and the job queue share, its validation and admission (images decoded one at a
 * time, fitted to the model's size) and its run.
 */
export { FLOW_NAMES, SAMPLER_NAMES, DEFAULT_REQUEST_LIMITS, type FlowRequest, type FlowJob, type RequestLimits, type SamplerName } from './flow-request.js';
export { decodeDataUrl, decodeImageBytes, pngDataUrl, MigeRequestTooLargeError } from './image-input.js';
export { validateFlowRequest, samplerName, SAMPLERS, type RequestImageReader, type ValidateFlowRequestOptions } from './validate-request.js';
export { admissionSide, fitToSide, boxReduce, imageBytes, Gate } from './admission.js';
export { runFlowJob, autoPreviewEvery, type FlowJobHooks } from './run-request.js';
