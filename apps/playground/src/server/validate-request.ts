import { MigeInputError } from '@mige/core';
import { FLOW_DEFAULTS, MigeRequestTooLargeError, validateFlowRequest, type FlowDefaults, type Gate } from '@mige/pipelines';
import type { FlowName, PlaygroundLimits } from '../api/api-types.js';
import { badRequest, HttpError } from './http-error.js';
import type { JobSpec } from './job-spec.js';

export { SAMPLERS, samplerName } from '@mige/pipelines';

/** The request's own field besides a FlowRequest's. */
const CANCEL_ON_DISCONNECT = 'cancelOnDisconnect';

/** How admitted images are decoded: one at a time through `gate`, shorter side brought down to `fitSide`. */
export interface Admission {
  fitSide?: number;
  gate?: Gate;
}

/**
 * Checks a POST /api/jobs body against the limits and decodes its images (pipelines'
 * validateFlowRequest, which the job queue's workers share: one image at a time, fitted to
 * `admission.fitSide`); HttpError 400 / 413 on bad input. Omitted settings take
 * `defaultsFor(flow)` (the model's, in the server).
 */
export async function validateJobRequest(
  body: unknown,
  limits: PlaygroundLimits,
  defaultsFor: (flow: FlowName) => FlowDefaults = (flow) => FLOW_DEFAULTS[flow],
  admission: Admission = {},
): Promise<JobSpec> {
  try {
    // Checked before validateFlowRequest decodes any image.
    const own = typeof body === 'object' && body !== null && Object.hasOwn(body, CANCEL_ON_DISCONNECT) ? (body as Record<string, unknown>)[CANCEL_ON_DISCONNECT] : undefined;
    const cancelOnDisconnect = own ?? true;
    if (typeof cancelOnDisconnect !== 'boolean') throw badRequest(`cancelOnDisconnect must be true or false, got ${JSON.stringify(cancelOnDisconnect)}`);
    const job = await validateFlowRequest(body, limits, defaultsFor, { ...admission, extraFields: [CANCEL_ON_DISCONNECT] });
    return { ...job, cancelOnDisconnect };
  } catch (e) {
    if (e instanceof MigeRequestTooLargeError) throw new HttpError(413, e.message);
    if (e instanceof MigeInputError) throw badRequest(e.message);
    throw e;
  }
}
