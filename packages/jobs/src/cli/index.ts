/** `@mige/jobs/cli`: the commands the mige command loads for `mige worker` and `mige batch`. */
export { JOBS_COMMANDS, runJobsCli } from './run.js';
