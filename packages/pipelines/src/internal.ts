/**
 * @mige/pipelines/internal: every module of the package, including the pieces the public entry
 * (index.ts) leaves out: schedule tables, loss terms, the training loop's parts, the ONNX graph
 * builders. For tools and tests that need them; they may change without a major version.
 */
export const packageName = '@mige/pipelines';

export * from './model/index.js';
export * from './diffusion/index.js';
export * from './loss/index.js';
export * from './flows/index.js';
export * from './pipeline/index.js';
export * from './train/index.js';
export { runCli, runCommand, COMMANDS } from './cli/run.js';
export { UsageError } from './cli/args.js';
export type { CliIo, Command } from './cli/io.js';
export * from './onnx/index.js';
export * from './requests/index.js';
