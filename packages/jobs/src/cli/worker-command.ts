import { initBackend, type BackendName } from '@mige/core';
import { checkRedis, redactUrl } from '../queue-config.js';
import { FlowWorker } from '../worker.js';
import type { Command } from '@mige/pipelines';
import { intOption, parseOptions, QUEUE_HELP, QUEUE_OPTIONS, queueConfigFromArgs, stringOption, UsageError } from './io.js';
import { loadWorkerModel } from './model-arg.js';

const BACKENDS = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'] as const;

export const workerCommand: Command = {
  name: 'worker',
  summary: 'run generate / edit / compose jobs from a Redis queue (BullMQ) on one loaded model',
  help: `Usage: mige worker --redis <url> [--model <m>] [--concurrency 1] [options]

Loads the model once and runs the queue's jobs until SIGTERM / SIGINT: then it finishes the
running job (up to --grace-ms), or stops it within one step and puts it back in the queue.
Run one worker process per core (wasm computes on one thread) or per GPU; every worker of a
queue must load the same model.
${QUEUE_HELP}
  --model <m>           a MIGE.js model folder, mige-world (the default model, from
                        @mige/model-world) or a preset (mige-tiny, mige-xl: random weights);
                        default: mige-world
  --init-seed <n>       seed of a preset's random weights (default 0)
  --engine <e>          tfjs | onnx (default: onnx when the model folder has an onnx/ export)
  --backend <name>      tensorflow-gpu | tensorflow | wasm | cpu (default: the fastest installed)
  --concurrency <n>     jobs at once in this process (default 1)
  --rate-limit <n/t>    at most n job starts per time t for each client key, e.g. 10/60s
                        (jobs over it wait for the next window); give every worker the same
  --lock-ms <ms>        a job's lock, renewed between steps (default 60000); must exceed the
                        longest single sampling step or decode
  --stalled-ms <ms>     how often to look for jobs whose worker died (default 30000)
  --grace-ms <ms>       on SIGTERM, how long the running job may take to finish (default 30000)
  --name <name>         this worker's name in results and logs (default host:pid)
  --quiet               no line per job`,
  async run(argv, io) {
    const v = parseOptions(argv, {
      ...QUEUE_OPTIONS,
      model: { type: 'string' },
      'init-seed': { type: 'string' },
      engine: { type: 'string' },
      backend: { type: 'string' },
      concurrency: { type: 'string' },
      'rate-limit': { type: 'string' },
      'lock-ms': { type: 'string' },
      'stalled-ms': { type: 'string' },
      'grace-ms': { type: 'string' },
      name: { type: 'string' },
      quiet: { type: 'boolean' },
    });
    const config = queueConfigFromArgs(v);
    const backend = stringOption(v, 'backend');
    if (backend !== undefined && !(BACKENDS as readonly string[]).includes(backend)) throw new UsageError(`--backend must be one of ${BACKENDS.join(', ')}, got ${backend}`);
    const engine = stringOption(v, 'engine');
    if (engine !== undefined && engine !== 'tfjs' && engine !== 'onnx') throw new UsageError(`--engine must be tfjs or onnx, got ${engine}`);
    const concurrency = intOption(v, 'concurrency', 1, 64);
    const lockMs = intOption(v, 'lock-ms', 1000);
    const stalledIntervalMs = intOption(v, 'stalled-ms', 100);
    const graceMs = intOption(v, 'grace-ms', 0);
    const initSeed = intOption(v, 'init-seed', 0);
    const rateLimit = stringOption(v, 'rate-limit');
    const name = stringOption(v, 'name');
    const log = v.quiet ? undefined : (line: string) => io.stdout.write(`${new Date().toISOString()} ${line}\n`);

    await checkRedis(config.redis);
    const info = await initBackend({ ...(backend ? { backend: backend as BackendName } : {}), log: null });
    const loaded = await loadWorkerModel(stringOption(v, 'model'), { ...(initSeed !== undefined ? { initSeed } : {}), ...(engine ? { engine } : {}) });
    let worker: FlowWorker;
    try {
      worker = await FlowWorker.start({
        ...config,
        model: loaded.model,
        ...(concurrency !== undefined ? { concurrency } : {}),
        ...(lockMs !== undefined ? { lockMs } : {}),
        ...(stalledIntervalMs !== undefined ? { stalledIntervalMs } : {}),
        ...(graceMs !== undefined ? { graceMs } : {}),
        ...(rateLimit !== undefined ? { rateLimit } : {}),
        ...(name !== undefined ? { name } : {}),
        ...(log ? { log } : {}),
      });
    } catch (e) {
      await loaded.release();
      throw e;
    }
    io.stdout.write(
      `mige worker ${worker.name}: ready; model ${loaded.description}, ${loaded.model.config.imageSize} px; backend ${info.name}; queue ${config.queue ?? 'mige'} at ${redactUrl(config.redis)}; concurrency ${concurrency ?? 1}\n`,
    );
    await new Promise<void>((resolve) => {
      let stopping = false;
      const stop = (signal: string) => {
        if (stopping) {
          io.stdout.write(`${signal} again: stopping the running job now and putting it back in the queue\n`);
          worker.requeueNow();
          return;
        }
        stopping = true;
        io.stdout.write(`${signal}: finishing the running job, or putting it back in the queue (${signal} again: now)\n`);
        resolve();
      };
      process.on('SIGTERM', () => stop('SIGTERM'));
      process.on('SIGINT', () => stop('SIGINT'));
    });
    try {
      await worker.close();
    } finally {
      await loaded.release();
    }
    io.stdout.write(`mige worker ${worker.name}: stopped\n`);
  },
};
