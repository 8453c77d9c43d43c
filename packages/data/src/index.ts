/**
 * @mige/data: the MIGE data format (records, JSONL manifests, MIGEBench files), validation,
 * the reference preprocessing, a deterministic task-ratio sampler, and a synthetic world with
 * exact ground truth for every MIGE task. See README.md.
 */
export const packageName = '@mige/data';

export * from './format/index.js';
export * from './sampler/index.js';
export * from './world/index.js';
export * from './embed-metrics/index.js';
export * from './cache/index.js';
export * from './eval/index.js';
