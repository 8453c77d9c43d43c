import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MigeAbortError, MigeInputError } from '@mige/core';
import { packageRoot } from '../model/assets.js';
import { UsageError } from './args.js';
import { composeCommand } from './commands/compose.js';
import { convertCommand } from './commands/convert.js';
import { editCommand } from './commands/edit.js';
import { evalCommand } from './commands/eval.js';
import { exportCommand } from './commands/export.js';
import { generateCommand } from './commands/generate.js';
import { infoCommand } from './commands/info.js';
import { trainCommand } from './commands/train.js';
import type { CliIo, Command } from './io.js';
import { JOBS_COMMANDS, loadJobsCommand } from './jobs-hook.js';

export const COMMANDS: readonly Command[] = [generateCommand, editCommand, composeCommand, trainCommand, evalCommand, convertCommand, exportCommand, infoCommand];

/** The package version, from its package.json (found from src/ or dist/ alike). */
function version(): string {
  try {
    return (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

const USAGE = `Usage: mige <command> [options]

MIGE.js: multimodal instruction-based image generation and editing.

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(10)} ${c.summary}`).join('\n')}
${Object.entries(JOBS_COMMANDS).map(([name, summary]) => `  ${name.padEnd(10)} ${summary}`).join('\n')}

Run "mige <command> --help" for a command's options.`;

/** One line for any error a user can fix: `where: message`, newlines folded. */
function oneLine(e: MigeInputError): string {
  return e.message.replace(/\s*\n\s*/g, '; ');
}

/**
 * Runs one command line; returns the exit code: 0 done, 1 bad input or failure, 2 bad usage,
 * 130 cancelled. Errors are one line on stderr.
 */
export async function runCli(argv: readonly string[], io: CliIo = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(`${USAGE}\n`);
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-v') {
    io.stdout.write(`${version()}\n`);
    return 0;
  }
  if (Object.hasOwn(JOBS_COMMANDS, name)) {
    const jobsCommand = await loadJobsCommand(name);
    if (jobsCommand) return runCommand(jobsCommand, rest, io);
    io.stderr.write(`mige ${name}: needs the @mige/jobs package (BullMQ workers over Redis), which is not installed here: npm install @mige/jobs\n`);
    return 1;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    io.stderr.write(`mige: unknown command "${name}" (commands: ${COMMANDS.map((c) => c.name).join(', ')})\n`);
    return 2;
  }
  return runCommand(command, rest, io);
}

/**
 * Runs one command (its --help, or its work with one-line errors); returns the exit code: 0
 * done, 1 bad input or failure, 2 bad usage (UsageError), 130 cancelled (MigeAbortError).
 */
export async function runCommand(command: Command, rest: readonly string[], io: CliIo): Promise<number> {
  const { name } = command;
  if (rest.includes('--help') || rest.includes('-h')) {
    try {
      io.stdout.write(`${typeof command.help === 'function' ? command.help(rest) : command.help}\n`);
    } catch (e) {
      if (!(e instanceof MigeInputError)) throw e;
      io.stderr.write(`mige ${name}: error: ${oneLine(e)}\n`);
      return 1;
    }
    return 0;
  }
  try {
    await command.run(rest, io);
    return 0;
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
      io.stderr.write(`mige ${name}: error: ${oneLine(e)}\n`);
      return 1;
    }
    const err = e as NodeJS.ErrnoException;
    if (err && typeof err.code === 'string' && typeof err.path === 'string') {
      io.stderr.write(`mige ${name}: error: ${err.path}: ${err.code === 'ENOENT' ? 'no such file or directory' : err.message}\n`);
      return 1;
    }
    io.stderr.write(`mige ${name}: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    return 1;
  }
}
