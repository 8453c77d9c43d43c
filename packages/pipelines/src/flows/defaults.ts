import type { GuidanceScales, GuidanceType, SamplerConfig } from '../diffusion/index.js';
import { samplingDefaults, type MigeModel, type SamplingDefaults } from '../model/index.js';
import type { FlowName } from './types.js';

export interface FlowDefaults {
  guidance: GuidanceType;
  steps: number;
  scales: GuidanceScales;
  sampler: SamplerConfig;
}

/** DPM-Solver++ order 2, time-uniform, multistep: the reference's sampler. */
export const REFERENCE_SAMPLER: SamplerConfig = Object.freeze({ type: 'dpm-solver', order: 2, skipType: 'time_uniform' });

/**
 * The reference inference scripts' settings: MIGE_subject_infer.py (50 steps, cfg_scale_y 7,
 * guidance "subject"), MIGE_edit_infer.py and MIGEBench_infer.py (60 steps, cfg_scale_y 5,
 * cfg_scale_s 1, guidance "edit").
 */
export const FLOW_DEFAULTS: Readonly<Record<FlowName, Readonly<FlowDefaults>>> = Object.freeze({
  generate: Object.freeze({ guidance: 'subject', steps: 50, scales: { y: 7, s: 1 }, sampler: REFERENCE_SAMPLER }),
  edit: Object.freeze({ guidance: 'edit', steps: 60, scales: { y: 5, s: 1 }, sampler: REFERENCE_SAMPLER }),
  compose: Object.freeze({ guidance: 'edit', steps: 60, scales: { y: 5, s: 1 }, sampler: REFERENCE_SAMPLER }),
});

/** A flow's defaults from a model's sampling defaults (sampling.json) over the reference's. */
export function flowDefaultsOf(sampling: SamplingDefaults, flow: FlowName): FlowDefaults {
  const d = FLOW_DEFAULTS[flow];
  const own = sampling[flow] ?? {};
  return { guidance: d.guidance, steps: own.steps ?? d.steps, scales: { ...d.scales, ...own.scales }, sampler: own.sampler ?? d.sampler };
}

/** A flow's defaults for `model`: its own (sampling.json) over the reference's. */
export function modelFlowDefaults(model: MigeModel, flow: FlowName): FlowDefaults {
  return flowDefaultsOf(samplingDefaults(model), flow);
}
