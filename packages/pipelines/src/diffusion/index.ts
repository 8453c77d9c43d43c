/** Noise schedules, samplers (DPM-Solver++, DDIM, DDPM) and classifier-free guidance. */
export { ddpmSchedule, ddpmTables, iddpmTables, linearBetas, numpyLinspace, respaceBetas, type DdpmSchedule } from './schedule.js';
export { NoiseScheduleVP, interpolate } from './noise-schedule-vp.js';
export { epsFromOutput, vToEps, type Prediction } from './prediction.js';
export { torchLinspaceF32 } from './float32.js';
export {
  createSampler,
  type DdimConfig,
  type DdpmConfig,
  type DpmSolverConfig,
  type NoiseModel,
  type AsyncNoiseModel,
  type SampleOptions,
  type Sampler,
  type SamplerConfig,
  type SamplerStep,
  type StepHook,
  type SkipType,
} from './sampler.js';
export { DpmSolverSampler } from './dpm-solver.js';
export { DdimSampler, DdpmSampler, spacedTimesteps } from './discrete-samplers.js';
export { MAX_STEPS } from './sampler-loop.js';
export {
  GUIDANCE_BRANCHES,
  combineGuidance,
  guidedNoiseModel,
  type GuidanceBranch,
  type GuidanceScales,
  type GuidanceType,
} from './guidance.js';
