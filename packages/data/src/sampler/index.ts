/** Deterministic, resumable multi-task sampling. */
export { TaskSampler, type TaskDraw, type TaskSamplerState } from './task-sampler.js';
