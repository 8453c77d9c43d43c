import { MigeInputError, type RgbImage } from '@mige/core';
import { countPlaceholders } from '@mige/encoder';
import type { SamplerConfig } from '../diffusion/index.js';
import { FLOW_DEFAULTS, REFERENCE_SAMPLER, type FlowDefaults, type FlowName } from '../flows/index.js';
import { FLOW_NAMES, SAMPLER_NAMES, type FlowJob, type RequestLimits, type SamplerName } from './flow-request.js';
import { fitToSide, Gate } from './admission.js';
import { decodeDataUrl } from './image-input.js';

const FIELDS: readonly string[] = ['flow', 'instruction', 'images', 'source', 'sourceSlot', 'steps', 'scales', 'seed', 'numImages', 'sampler'];
const MAX_SEED = 2 ** 32 - 1;
const PLACEHOLDER = '<imagehere>';

/** The sampler configuration behind each name a request may give. */
export const SAMPLERS: Readonly<Record<SamplerName, SamplerConfig>> = {
  'dpm-solver': REFERENCE_SAMPLER,
  ddim: { type: 'ddim', eta: 0 },
  ddpm: { type: 'ddpm' },
};

/** Turns one image field of a request (`images[2]`, `source`) into an RGB image, checked against the limits. */
export type RequestImageReader = (value: unknown, field: string, limits: RequestLimits) => Promise<RgbImage>;

/** How validateFlowRequest reads a request's images, and what else the caller's request may hold. */
export interface ValidateFlowRequestOptions {
  /** Decodes one image field: PNG / JPEG data URLs (decodeDataUrl) unless the caller accepts more. */
  readImage?: RequestImageReader;
  /**
   * Brings each decoded image's shorter side down to this many pixels as it is admitted
   * (fitToSide; `admissionSide(model)` for the model that will run it). Default: kept as decoded.
   */
  fitSide?: number;
  /** Images are decoded one at a time through this gate (default: one gate for the whole process). */
  gate?: Gate;
  /** Fields of the caller's own that the body may hold besides a FlowRequest's (read by the caller, not here). */
  extraFields?: readonly string[];
}

const ONE_AT_A_TIME = new Gate();

const bad = (message: string): MigeInputError => new MigeInputError(message);

function integer(value: unknown, field: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw bad(`${field} must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  return value;
}

function scale(value: unknown, field: string, max: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || Math.abs(value) > max) {
    throw bad(`${field} must be a number from -${max} to ${max}, got ${JSON.stringify(value)}`);
  }
  return value;
}

function checkShape(flow: FlowName, placeholders: number, images: number, hasSource: boolean, sourceSlot: number | undefined): void {
  const count = `the instruction has ${placeholders} ${PLACEHOLDER} but ${images} image(s) were given`;
  if (flow === 'generate') {
    if (hasSource || sourceSlot !== undefined) throw bad('generate takes no source or sourceSlot: its images are all subjects');
    if (placeholders !== images) throw bad(`${count}: generate needs one ${PLACEHOLDER} per image`);
    return;
  }
  if (flow === 'edit') {
    if (hasSource && sourceSlot !== undefined) throw bad('give either source or sourceSlot for edit, not both');
    if (images + (hasSource ? 1 : 0) !== 1) throw bad(`edit takes exactly one image, its source; got ${images + (hasSource ? 1 : 0)}`);
    if (placeholders > 1) throw bad(`the instruction has ${placeholders} ${PLACEHOLDER}: an edit instruction refers to its source at most once`);
    if (images === 1 && sourceSlot !== undefined && sourceSlot !== 0) throw bad(`sourceSlot must be 0 for edit, got ${sourceSlot}`);
    return;
  }
  if (hasSource) {
    if (images < 1) throw bad('compose needs at least one subject image in images');
    if (placeholders !== images && placeholders !== images + 1) throw bad(`${count} and a separate source: compose needs one ${PLACEHOLDER} per subject, or one more for the source`);
    if (sourceSlot !== undefined && (placeholders !== images + 1 || sourceSlot > images)) {
      throw bad(`sourceSlot places a separate source among the instruction's ${PLACEHOLDER}: it needs one ${PLACEHOLDER} more than subjects and a slot from 0 to ${images}`);
    }
    return;
  }
  if (images < 2) throw bad(`compose needs a source and at least one subject: got ${images} image(s)`);
  if (placeholders !== images) throw bad(`${count}: with the source among images, compose needs one ${PLACEHOLDER} per image`);
  if ((sourceSlot ?? 0) >= images) throw bad(`sourceSlot must be an integer from 0 to ${images - 1}, got ${sourceSlot}`);
}

/** The sampler's name in a request: its type (one configuration per type). */
export function samplerName(config: SamplerConfig): SamplerName {
  return config.type;
}

/**
 * Checks a FlowRequest (parsed JSON of unknown shape) against the limits and decodes its
 * images, one at a time, fitted to `options.fitSide`; MigeInputError on bad input
 * (MigeRequestTooLargeError for an image over the size limit). Every setting is checked before
 * any image is decoded. Omitted settings take `defaultsFor(flow)` (the model's, where one is
 * loaded).
 */
export async function validateFlowRequest(
  body: unknown,
  limits: RequestLimits,
  defaultsFor: (flow: FlowName) => FlowDefaults = (flow) => FLOW_DEFAULTS[flow],
  options: ValidateFlowRequestOptions = {},
): Promise<FlowJob> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw bad('the request body must be a JSON object');
  const r = body as Record<string, unknown>;
  const fields = new Set([...FIELDS, ...(options.extraFields ?? [])]);
  const unknown = Object.keys(r).filter((k) => !fields.has(k));
  if (unknown.length > 0) throw bad(`unknown field(s) ${unknown.join(', ')} (known: ${[...fields].join(', ')})`);

  if (!FLOW_NAMES.includes(r.flow as FlowName)) throw bad(`flow must be one of ${FLOW_NAMES.join(', ')}, got ${JSON.stringify(r.flow)}`);
  const flow = r.flow as FlowName;
  if (typeof r.instruction !== 'string' || r.instruction.trim() === '') throw bad('instruction must be a non-empty string');
  const instruction = r.instruction;
  if (instruction.length > limits.maxInstructionChars) {
    throw bad(`instruction is ${instruction.length} characters, over the limit of ${limits.maxInstructionChars}`);
  }
  const rawImages = r.images ?? [];
  if (!Array.isArray(rawImages)) throw bad('images must be an array of PNG or JPEG data URLs');
  const hasSource = r.source !== undefined && r.source !== null;
  const total = rawImages.length + (hasSource ? 1 : 0);
  if (total > limits.maxImages) throw bad(`${total} images were given: at most ${limits.maxImages} per request`);
  const sourceSlot = r.sourceSlot === undefined || r.sourceSlot === null ? undefined : integer(r.sourceSlot, 'sourceSlot', 0, limits.maxImages - 1);
  checkShape(flow, countPlaceholders(instruction), rawImages.length, hasSource, sourceSlot);

  const d = defaultsFor(flow);
  const steps = r.steps === undefined ? Math.min(d.steps, limits.maxSteps) : integer(r.steps, 'steps', 1, limits.maxSteps);
  const seed = r.seed === undefined ? 0 : integer(r.seed, 'seed', 0, MAX_SEED);
  const numImages = r.numImages === undefined ? 1 : integer(r.numImages, 'numImages', 1, limits.maxNumImages);
  const sampler = r.sampler ?? samplerName(d.sampler);
  if (!SAMPLER_NAMES.includes(sampler as SamplerName)) throw bad(`sampler must be one of ${SAMPLER_NAMES.join(', ')}, got ${JSON.stringify(sampler)}`);
  const scales = { ...d.scales };
  if (r.scales !== undefined) {
    if (typeof r.scales !== 'object' || r.scales === null || Array.isArray(r.scales)) throw bad('scales must be an object { y, s }');
    for (const [k, v] of Object.entries(r.scales)) {
      if (k !== 'y' && k !== 's') throw bad(`unknown scale '${k}' (y: instruction, s: source)`);
      scales[k] = scale(v, `scales.${k}`, limits.maxScale);
    }
  }

  const { readImage = decodeDataUrl, fitSide, gate = ONE_AT_A_TIME } = options;
  const decode = (value: unknown, field: string) =>
    gate.run(async () => {
      const img = await readImage(value, field, limits);
      return fitSide === undefined ? img : fitToSide(img, fitSide);
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
  };
}
