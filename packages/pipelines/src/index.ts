/**
 * @mige/pipelines: MIGE assembled from its components (MigeModel), noise schedules and samplers,
 * classifier-free guidance, the generate / edit / compose flows, joint training, and the `mige`
 * command line. See README.md.
 */
export const packageName = '@mige/pipelines';

export * from './model/index.js';
export * from './diffusion/index.js';
export * from './loss/index.js';
export * from './flows/index.js';
export * from './train/index.js';
export { runCli, runCommand, COMMANDS } from './cli/run.js';
export { UsageError } from './cli/args.js';
export type { CliIo, Command } from './cli/io.js';
export * from './onnx/index.js';
export * from './requests/index.js';
