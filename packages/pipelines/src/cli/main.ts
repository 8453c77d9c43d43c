/** The `mige` command (dist/cli.js, run by bin/mige.js): the package's runCli on process.argv. */
import { runCli } from '../index.js';

process.exitCode = await runCli(process.argv.slice(2));
