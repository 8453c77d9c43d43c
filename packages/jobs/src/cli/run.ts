import { MigeAbortError, MigeInputError } from '@mige/core';
import { batchCommand } from './batch-command.js';
import { UsageError, type CliIo } from './io.js';
import { workerCommand } from './worker-command.js';

export interface JobsCommand {
  name: string;
  summary: string;
  help: string;
  /** Resolves with the exit code. */
  run(argv: readonly string[], io: CliIo): Promise<number>;
}

export const JOBS_COMMANDS: readonly JobsCommand[] = [workerCommand, batchCommand];

/**
 * Runs `mige worker …` or `mige batch …` (the mige command loads this module for them); returns
 * the exit code: 0 done, 1 bad input or failure, 2 bad usage, 130 interrupted.
 */
export async function runJobsCommand(name: string, argv: readonly string[], io: CliIo = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const command = JOBS_COMMANDS.find((c) => c.name === name);
  if (!command) {
    io.stderr.write(`mige: unknown command "${name}" (@mige/jobs has: ${JOBS_COMMANDS.map((c) => c.name).join(', ')})\n`);
    return 2;
  }
  if (argv.includes('--help') || argv.includes('-h')) {
    io.stdout.write(`${command.help}\n`);
    return 0;
  }
  try {
    return await command.run(argv, io);
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr.write(`mige ${name}: ${e.message} (see "mige ${name} --help")\n`);
      return 2;
    }
    if (e instanceof MigeAbortError) {
      io.stderr.write(`mige ${name}: ${e.message}\n`);
      return 130;
    }
    if (e instanceof MigeInputError) {
      io.stderr.write(`mige ${name}: error: ${e.message.replace(/\s*\n\s*/g, '; ')}\n`);
      return 1;
    }
    const err = e as NodeJS.ErrnoException;
    if (err && (err.code === 'ECONNREFUSED' || err.code === 'ENOTFOUND')) {
      io.stderr.write(`mige ${name}: error: cannot reach Redis (${err.message})\n`);
      return 1;
    }
    io.stderr.write(`mige ${name}: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    return 1;
  }
}

const USAGE = `Usage: mige-jobs <command> [options]

MIGE.js generation jobs on BullMQ workers over Redis (also "mige worker", "mige batch").

Commands:
${JOBS_COMMANDS.map((c) => `  ${c.name.padEnd(8)} ${c.summary}`).join('\n')}

Run "mige-jobs <command> --help" for a command's options.`;

/** The mige-jobs command line. */
export async function runJobsCli(argv: readonly string[], io: CliIo = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(`${USAGE}\n`);
    return name === undefined ? 2 : 0;
  }
  return runJobsCommand(name, rest, io);
}
