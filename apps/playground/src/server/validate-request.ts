import { MigeInputError } from '@mige/core';
import { FLOW_DEFAULTS, MigeRequestTooLargeError, validateFlowRequest, type FlowDefaults } from '@mige/pipelines';
import type { FlowName, PlaygroundLimits } from '../api/api-types.js';
import { badRequest, HttpError } from './http-error.js';
import type { JobSpec } from './job-spec.js';

export { SAMPLERS, samplerName } from '@mige/pipelines';

/**
 * Checks a POST /api/jobs body against the limits and decodes its images (pipelines'
 * validateFlowRequest, which the job queue's workers share); HttpError 400 / 413 on bad input.
 * Omitted settings take `defaultsFor(flow)` (the model's, in the server).
 */
export async function validateJobRequest(
  body: unknown,
  limits: PlaygroundLimits,
  defaultsFor: (flow: FlowName) => FlowDefaults = (flow) => FLOW_DEFAULTS[flow],
): Promise<JobSpec> {
  try {
    return await validateFlowRequest(body, limits, defaultsFor);
  } catch (e) {
    if (e instanceof MigeRequestTooLargeError) throw new HttpError(413, e.message);
    if (e instanceof MigeInputError) throw badRequest(e.message);
    throw e;
  }
}
