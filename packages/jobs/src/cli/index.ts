/** `@mige/jobs/cli`: what the mige command loads for `mige worker` and `mige batch`. */
export { runJobsCommand, runJobsCli, JOBS_COMMANDS, type JobsCommand } from './run.js';
export type { CliIo } from './io.js';
