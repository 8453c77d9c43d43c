import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Command } from './io.js';

/** Subcommands that live in @mige/jobs (BullMQ and Redis), which pipelines does not depend on. */
export const JOBS_COMMANDS: Readonly<Record<string, string>> = {
  worker: 'run generation jobs from a Redis queue on one loaded model (needs @mige/jobs)',
  batch: 'enqueue a JSONL file of requests on a Redis queue, collect the outputs (needs @mige/jobs)',
};

/** Finds `mige worker|batch` in @mige/jobs where it is installed: beside pipelines, or in the working directory's project. */
export async function loadJobsCommand(name: string): Promise<Command | undefined> {
  // typeof guards: __filename exists only in the CommonJS build (where import.meta is empty), import.meta.url only in ESM (sources).
  const here = typeof __filename === 'string' ? __filename : fileURLToPath(import.meta.url);
  for (const from of [here, join(process.cwd(), 'package.json')]) {
    let entry: string;
    try {
      entry = createRequire(from).resolve('@mige/jobs/cli');
    } catch {
      continue;
    }
    const jobs = (await import(pathToFileURL(entry).href)) as { JOBS_COMMANDS: readonly Command[] };
    return jobs.JOBS_COMMANDS.find((c) => c.name === name);
  }
  return undefined;
}
