import { FLOW_DEFAULTS, REFERENCE_SAMPLER, type FlowDefaults, type SamplerConfig } from '@mige/pipelines';
import { countPlaceholders, FLOW_NAMES, PLACEHOLDER, SAMPLER_NAMES, type FlowName, type PlaygroundLimits, type SamplerName } from '../api/api-types.js';
import { fitToSide, Gate } from './admission.js';
import { decodeDataUrl } from './data-url.js';
import { badRequest } from './http-error.js';
import type { JobSpec } from './job-spec.js';

const FIELDS = new Set(['flow', 'instruction', 'images', 'source', 'sourceSlot', 'steps', 'scales', 'seed', 'numImages', 'sampler', 'cancelOnDisconnect']);
const MAX_SEED = 2 ** 32 - 1;

export const SAMPLERS: Readonly<Record<SamplerName, SamplerConfig>> = {
  'dpm-solver': REFERENCE_SAMPLER,
  ddim: { type: 'ddim', eta: 0 },
  ddpm: { type: 'ddpm' },
};

function integer(value: unknown, field: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw badRequest(`${field} must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  return value;
}

function scale(value: unknown, field: string, max: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || Math.abs(value) > max) {
    throw badRequest(`${field} must be a number from -${max} to ${max}, got ${JSON.stringify(value)}`);
  }
  return value;
}

function checkShape(flow: FlowName, placeholders: number, images: number, hasSource: boolean, sourceSlot: number | undefined): void {
  const count = `the instruction has ${placeholders} ${PLACEHOLDER} but ${images} image(s) were given`;
  if (flow === 'generate') {
    if (hasSource || sourceSlot !== undefined) throw badRequest('generate takes no source or sourceSlot: its images are all subjects');
    if (placeholders !== images) throw badRequest(`${count}: generate needs one ${PLACEHOLDER} per image`);
    return;
  }
  if (flow === 'edit') {
    if (hasSource && sourceSlot !== undefined) throw badRequest('give either source or sourceSlot for edit, not both');
    if (images + (hasSource ? 1 : 0) !== 1) throw badRequest(`edit takes exactly one image, its source; got ${images + (hasSource ? 1 : 0)}`);
    if (placeholders > 1) throw badRequest(`the instruction has ${placeholders} ${PLACEHOLDER}: an edit instruction refers to its source at most once`);
    if (images === 1 && sourceSlot !== undefined && sourceSlot !== 0) throw badRequest(`sourceSlot must be 0 for edit, got ${sourceSlot}`);
    return;
  }
  if (hasSource) {
    if (images < 1) throw badRequest('compose needs at least one subject image in images');
    if (placeholders !== images && placeholders !== images + 1) throw badRequest(`${count} and a separate source: compose needs one ${PLACEHOLDER} per subject, or one more for the source`);
    if (sourceSlot !== undefined && (placeholders !== images + 1 || sourceSlot > images)) {
      throw badRequest(`sourceSlot places a separate source among the instruction's ${PLACEHOLDER}: it needs one ${PLACEHOLDER} more than subjects and a slot from 0 to ${images}`);
    }
    return;
  }
  if (images < 2) throw badRequest(`compose needs a source and at least one subject: got ${images} image(s)`);
  if (placeholders !== images) throw badRequest(`${count}: with the source among images, compose needs one ${PLACEHOLDER} per image`);
  if ((sourceSlot ?? 0) >= images) throw badRequest(`sourceSlot must be an integer from 0 to ${images - 1}, got ${sourceSlot}`);
}

/** The sampler's name in the API: its type (the UI lists one configuration per type). */
export function samplerName(config: SamplerConfig): SamplerName {
  return config.type;
}

/** How admitted images are decoded: one at a time through `gate`, shorter side brought down to `fitSide`. */
export interface Admission {
  fitSide?: number;
  gate?: Gate;
}

const ONE_AT_A_TIME = new Gate();

/**
 * Checks a POST /api/jobs body against the limits and decodes its images; HttpError 400 / 413 on
 * bad input. Omitted settings take `defaultsFor(flow)` (the model's, in the server).
 */
export async function validateJobRequest(
  body: unknown,
  limits: PlaygroundLimits,
  defaultsFor: (flow: FlowName) => FlowDefaults = (flow) => FLOW_DEFAULTS[flow],
  admission: Admission = {},
): Promise<JobSpec> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest('the request body must be a JSON object');
  const r = body as Record<string, unknown>;
  const unknown = Object.keys(r).filter((k) => !FIELDS.has(k));
  if (unknown.length > 0) throw badRequest(`unknown field(s) ${unknown.join(', ')} (known: ${[...FIELDS].join(', ')})`);

  if (!FLOW_NAMES.includes(r.flow as FlowName)) throw badRequest(`flow must be one of ${FLOW_NAMES.join(', ')}, got ${JSON.stringify(r.flow)}`);
  const flow = r.flow as FlowName;
  if (typeof r.instruction !== 'string' || r.instruction.trim() === '') throw badRequest('instruction must be a non-empty string');
  const instruction = r.instruction;
  if (instruction.length > limits.maxInstructionChars) {
    throw badRequest(`instruction is ${instruction.length} characters, over the limit of ${limits.maxInstructionChars}`);
  }
  const rawImages = r.images ?? [];
  if (!Array.isArray(rawImages)) throw badRequest('images must be an array of PNG or JPEG data URLs');
  const hasSource = r.source !== undefined && r.source !== null;
  const total = rawImages.length + (hasSource ? 1 : 0);
  if (total > limits.maxImages) throw badRequest(`${total} images were given: at most ${limits.maxImages} per request`);
  const sourceSlot = r.sourceSlot === undefined || r.sourceSlot === null ? undefined : integer(r.sourceSlot, 'sourceSlot', 0, limits.maxImages - 1);
  checkShape(flow, countPlaceholders(instruction), rawImages.length, hasSource, sourceSlot);

  const d = defaultsFor(flow);
  const steps = r.steps === undefined ? Math.min(d.steps, limits.maxSteps) : integer(r.steps, 'steps', 1, limits.maxSteps);
  const seed = r.seed === undefined ? 0 : integer(r.seed, 'seed', 0, MAX_SEED);
  const numImages = r.numImages === undefined ? 1 : integer(r.numImages, 'numImages', 1, limits.maxNumImages);
  const sampler = r.sampler ?? samplerName(d.sampler);
  if (!SAMPLER_NAMES.includes(sampler as SamplerName)) throw badRequest(`sampler must be one of ${SAMPLER_NAMES.join(', ')}, got ${JSON.stringify(sampler)}`);
  const scales = { ...d.scales };
  if (r.scales !== undefined) {
    if (typeof r.scales !== 'object' || r.scales === null || Array.isArray(r.scales)) throw badRequest('scales must be an object { y, s }');
    for (const [k, v] of Object.entries(r.scales)) {
      if (k !== 'y' && k !== 's') throw badRequest(`unknown scale '${k}' (y: instruction, s: source)`);
      scales[k] = scale(v, `scales.${k}`, limits.maxScale);
    }
  }

  const cancelOnDisconnect = r.cancelOnDisconnect ?? true;
  if (typeof cancelOnDisconnect !== 'boolean') throw badRequest(`cancelOnDisconnect must be true or false, got ${JSON.stringify(cancelOnDisconnect)}`);

  const gate = admission.gate ?? ONE_AT_A_TIME;
  const decode = (value: unknown, field: string) =>
    gate.run(async () => {
      const img = await decodeDataUrl(value, field, limits);
      return admission.fitSide === undefined ? img : fitToSide(img, admission.fitSide);
    });
  const images = [];
  for (let i = 0; i < rawImages.length; i++) images.push(await decode(rawImages[i], `images[${i}]`));
  const source = hasSource ? await decode(r.source, 'source') : undefined;
  return {
    flow,
    instruction,
    images,
    ...(source ? { source } : {}),
    ...(sourceSlot !== undefined ? { sourceSlot } : {}),
    // No sampler asked for: the model's own default configuration, as is.
    options: { steps, scales, seed, numImages, sampler: r.sampler === undefined ? d.sampler : SAMPLERS[sampler as SamplerName] },
    cancelOnDisconnect,
  };
}
