/** The `mige-jobs` command (dist/cli.js). */
import { runJobsCli } from './run.js';

process.exitCode = await runJobsCli(process.argv.slice(2));
