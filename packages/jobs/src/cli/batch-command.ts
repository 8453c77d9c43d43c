import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { MigeAbortError, MigeInputError, writeFileAtomic, writeTextFileAtomic } from '@mige/core';
import { DEFAULT_REQUEST_LIMITS } from '@mige/pipelines';
import { JobCancelledError, JobFailedError, type JobResult } from '../job-events.js';
import { JobProducer } from '../producer.js';
import { readBatchFile, withImageBytes, type BatchLine } from './batch-file.js';
import type { Command } from '@mige/pipelines';
import { intOption, parseOptions, QUEUE_HELP, QUEUE_OPTIONS, queueConfigFromArgs, requiredOption, stringOption } from './io.js';
import { ProgressBar } from './progress-bar.js';

/** The sidecar that marks a line as done: written last, after its images. */
function sidecarPath(out: string, id: string): string {
  return join(out, `${id}.json`);
}

function errorPath(out: string, id: string): string {
  return join(out, `${id}.error.json`);
}

/** `<id>.png`, or `<id>-0.png`, `<id>-1.png`, … for several images. */
function imageNames(id: string, count: number): string[] {
  return count === 1 ? [`${id}.png`] : Array.from({ length: count }, (_, k) => `${id}-${k}.png`);
}

async function writeOutputs(out: string, entry: BatchLine, result: JobResult): Promise<void> {
  const names = imageNames(entry.id, result.images.length);
  result.images.forEach((png, k) => writeFileAtomic(join(out, names[k] as string), (write) => write(png)));
  const sidecar = { id: entry.id, line: entry.line, job: entry.jobId, images: names, params: result.params, warnings: result.warnings, seconds: result.seconds, worker: result.worker };
  writeTextFileAtomic(sidecarPath(out, entry.id), `${JSON.stringify(sidecar, null, 2)}\n`);
  await rm(errorPath(out, entry.id), { force: true });
}

/** Runs `task` over `items`, at most `width` at a time. */
async function windowed<T>(items: readonly T[], width: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(width, items.length) }, async () => {
    while (next < items.length) await task(items[next++] as T);
  });
  await Promise.all(lanes);
}

export const batchCommand: Command = {
  name: 'batch',
  summary: 'enqueue a JSONL file of requests on a Redis queue and collect the outputs (resumable)',
  help: `Usage: mige batch --in <requests.jsonl> --out <dir> --redis <url> [options]

Each line of the requests file is one request, as the playground's API takes it:
  {"flow": "edit", "instruction": "make the red square blue", "images": ["scene.png"], "seed": 1}
  {"id": "cat-3", "flow": "generate", "instruction": "<imagehere> on grass", "images": ["cat.png"], "numImages": 2}
Images are files (relative to the requests file), PNG / JPEG data URLs or store:<key> references.
Outputs: <out>/<id>.png (or <id>-0.png, <id>-1.png, ... with numImages) and <out>/<id>.json (the
parameters of each image); id defaults to the line number. A line whose <id>.json exists is done:
running the same command again collects what is still missing and nothing twice (jobs that
finished meanwhile are read from the queue, not run again). Failed lines get <id>.error.json and
are retried by the next run. Exit code 0 when every line is done, 1 otherwise.
${QUEUE_HELP}
  --in <file>           the requests (JSON lines)
  --out <dir>           where the outputs go
  --priority <n>        1 runs first ... 2097151 last (default 100)
  --client-key <k>      counts against this client's rate limit on the workers
  --window <n>          jobs of this batch in the queue at once (default 256)`,
  async run(argv, io) {
    const v = parseOptions(argv, {
      ...QUEUE_OPTIONS,
      in: { type: 'string' },
      out: { type: 'string' },
      priority: { type: 'string' },
      'client-key': { type: 'string' },
      window: { type: 'string' },
    });
    const input = requiredOption(v, 'in');
    const out = requiredOption(v, 'out');
    const config = queueConfigFromArgs(v);
    const priority = intOption(v, 'priority', 1, 2_097_151);
    const clientKey = stringOption(v, 'client-key');
    const window = intOption(v, 'window', 1, 100_000) ?? 256;
    const lines = await readBatchFile(input, out);
    if (lines.length === 0) throw new MigeInputError('has no requests', `--in ${input}`);
    await mkdir(out, { recursive: true });
    const pending = lines.filter((l) => !existsSync(sidecarPath(out, l.id)));
    const bar = new ProgressBar(io.stderr, lines.length, lines.length - pending.length);
    if (pending.length === 0) {
      bar.finish();
      return;
    }
    const producer = await JobProducer.connect(config);
    const stop = new AbortController();
    const onSignal = () => stop.abort(new Error('interrupted'));
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    let failed = 0;
    try {
      await windowed(pending, window, async (entry) => {
        if (stop.signal.aborted) return;
        try {
          await submit(producer, entry, input, { priority, clientKey });
          await writeOutputs(out, entry, await producer.result(entry.jobId, { signal: stop.signal }));
          bar.tick('done');
        } catch (e) {
          if (stop.signal.aborted) return;
          if (!(e instanceof JobFailedError || e instanceof JobCancelledError || e instanceof MigeInputError)) throw e;
          failed++;
          writeTextFileAtomic(errorPath(out, entry.id), `${JSON.stringify({ id: entry.id, line: entry.line, job: entry.jobId, error: e.message }, null, 2)}\n`);
          bar.tick('failed');
        }
      });
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      await producer.close();
    }
    bar.finish();
    if (stop.signal.aborted) {
      io.stderr.write('mige batch: the queued jobs go on: run the same command again to collect them\n');
      throw new MigeAbortError('batch', lines.length - pending.length);
    }
    if (failed > 0) throw new MigeInputError(`${failed} of ${lines.length} failed (see ${join(out, '*.error.json')}); run the same command again to retry them`);
  },
};

/** Puts a line's job in the queue unless it is there already: a failed or cancelled one is retried, a finished one is collected. */
async function submit(producer: JobProducer, entry: BatchLine, input: string, options: { priority: number | undefined; clientKey: string | undefined }): Promise<void> {
  const state = (await producer.state(entry.jobId))?.state;
  if (state === 'failed' || state === 'cancelled') {
    if (await producer.retry(entry.jobId)) return;
  } else if (state !== undefined) {
    return;
  }
  const request = await withImageBytes(entry, input, DEFAULT_REQUEST_LIMITS);
  await producer.enqueue(request, { jobId: entry.jobId, ...(options.priority !== undefined ? { priority: options.priority } : {}), ...(options.clientKey !== undefined ? { clientKey: options.clientKey } : {}) });
}
