import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { MigeInputError, writeTextFileAtomic } from '@mige/core';
import { createSampler, type GuidanceScales, type SamplerConfig } from '../diffusion/index.js';
import { readJsonFile } from './json-file.js';
import type { MigeModel } from './mige-model.js';

/** One flow's sampling defaults a model brings (each field overrides the reference's). */
export interface FlowSampling {
  sampler?: SamplerConfig;
  steps?: number;
  scales?: Partial<GuidanceScales>;
}

/**
 * How a model samples best, by flow: a model folder's `sampling.json`, as diffusers keeps a
 * scheduler config beside the weights. A request's own options still win. The official
 * checkpoints have none (the reference's DPM-Solver++ settings); the small default model brings
 * the guidance scales tuned on its validation split.
 */
export type SamplingDefaults = Partial<Record<'generate' | 'edit' | 'compose', FlowSampling>>;

export const SAMPLING_FILE = 'sampling.json';
const FLOWS = ['generate', 'edit', 'compose'] as const;

const defaults = new WeakMap<MigeModel, SamplingDefaults>();

/** The model's sampling defaults ({} when it brings none). */
export function samplingDefaults(model: MigeModel): SamplingDefaults {
  return defaults.get(model) ?? {};
}

/** Sets (checked) or clears (`{}`) the model's sampling defaults; saveModel writes them. */
export function setSamplingDefaults(model: MigeModel, sampling: SamplingDefaults, where = 'sampling defaults'): void {
  defaults.set(model, parseSamplingDefaults(sampling, where));
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Checks parsed JSON: known flows and fields only, a valid sampler, integer steps ≥ 1, finite scales. */
export function parseSamplingDefaults(json: unknown, where: string): SamplingDefaults {
  if (!isObject(json)) throw new MigeInputError('sampling defaults must be an object { generate?, edit?, compose? }', where);
  const out: SamplingDefaults = {};
  for (const [flow, v] of Object.entries(json)) {
    if (!(FLOWS as readonly string[]).includes(flow)) throw new MigeInputError(`${flow} is not a flow (generate, edit or compose)`, where);
    if (!isObject(v)) throw new MigeInputError(`${flow} must be an object { sampler?, steps?, scales? }`, where);
    const f: FlowSampling = {};
    for (const [k, x] of Object.entries(v)) {
      const path = `${flow}.${k}`;
      if (k === 'sampler') {
        try {
          createSampler(x as SamplerConfig);
        } catch (error) {
          throw new MigeInputError(`${path}: ${(error as Error).message}`, where);
        }
        f.sampler = x as SamplerConfig;
      } else if (k === 'steps') {
        if (!Number.isInteger(x) || (x as number) < 1) throw new MigeInputError(`${path} must be an integer >= 1, got ${JSON.stringify(x)}`, where);
        f.steps = x as number;
      } else if (k === 'scales') {
        if (!isObject(x)) throw new MigeInputError(`${path} must be an object { y?, s? }`, where);
        for (const [s, n] of Object.entries(x)) {
          if (s !== 'y' && s !== 's') throw new MigeInputError(`${path}.${s} is not a guidance scale (y or s)`, where);
          if (typeof n !== 'number' || !Number.isFinite(n)) throw new MigeInputError(`${path}.${s} must be a finite number, got ${JSON.stringify(n)}`, where);
        }
        f.scales = x as Partial<GuidanceScales>;
      } else {
        throw new MigeInputError(`${path} is not a known field (sampler, steps, scales)`, where);
      }
    }
    out[flow as (typeof FLOWS)[number]] = f;
  }
  return out;
}

/** A model folder's `sampling.json`, checked ({} when the folder has none). */
export function readSamplingDefaults(dir: string): SamplingDefaults {
  const path = join(dir, SAMPLING_FILE);
  if (!existsSync(path)) return {};
  return parseSamplingDefaults(readJsonFile(path, 'the model folder\'s sampling defaults'), path);
}

/** Reads `<dir>/sampling.json` into the model's defaults, if the folder has one. */
export function readSamplingFile(model: MigeModel, dir: string): void {
  defaults.set(model, readSamplingDefaults(dir));
}

/** Writes the model's defaults to `<dir>/sampling.json`; removes a stale one when it has none. */
export function writeSamplingFile(model: MigeModel, dir: string): void {
  const sampling = samplingDefaults(model);
  const path = join(dir, SAMPLING_FILE);
  if (Object.keys(sampling).length > 0) writeTextFileAtomic(path, `${JSON.stringify(sampling, null, 2)}\n`);
  else rmSync(path, { force: true });
}
