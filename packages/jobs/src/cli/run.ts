import { runCommand, type CliIo, type Command } from '@mige/pipelines';
import { batchCommand } from './batch-command.js';
import { workerCommand } from './worker-command.js';

/** `mige worker` and `mige batch`: the mige command finds them here, and runs them as its own. */
export const JOBS_COMMANDS: readonly Command[] = [workerCommand, batchCommand];

const USAGE = `Usage: mige-jobs <command> [options]

MIGE.js generation jobs on BullMQ workers over Redis (the same as "mige worker", "mige batch").

Commands:
${JOBS_COMMANDS.map((c) => `  ${c.name.padEnd(8)} ${c.summary}`).join('\n')}

Run "mige-jobs <command> --help" for a command's options.`;

/** The mige-jobs command line; returns the exit code (as mige's: 0 done, 1 failure, 2 bad usage, 130 interrupted). */
export async function runJobsCli(argv: readonly string[], io: CliIo = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(`${USAGE}\n`);
    return name === undefined ? 2 : 0;
  }
  const command = JOBS_COMMANDS.find((c) => c.name === name);
  if (!command) {
    io.stderr.write(`mige-jobs: unknown command "${name}" (commands: ${JOBS_COMMANDS.map((c) => c.name).join(', ')})\n`);
    return 2;
  }
  return runCommand(command, rest, io);
}
