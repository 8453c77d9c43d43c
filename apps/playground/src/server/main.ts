#!/usr/bin/env node
/** `mige-playground`: loads a model and serves the playground (see README.md). */
import { existsSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initBackend, MigeInputError, type BackendName } from '@mige/core';
import type { FastifyInstance } from 'fastify';
import { createServer } from './create-server.js';
import { loadPlaygroundModel, StartupError } from './load-model.js';
import { parseMainArgs, UsageError, USAGE } from './main-args.js';

const FIRST_PORT = 5173;
const PORT_TRIES = 20;

/** dist/server/main.js serves dist/ui; run from source (tsx), src/server serves the built dist/ui too. */
function defaultUiDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  return basename(dirname(here)) === 'src' ? resolve(here, '../../dist/ui') : resolve(here, '../ui');
}

async function listen(app: FastifyInstance, host: string, port: number | undefined): Promise<string> {
  if (port !== undefined) return app.listen({ host, port });
  for (let p = FIRST_PORT; p < FIRST_PORT + PORT_TRIES; p++) {
    try {
      return await app.listen({ host, port: p });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw e;
    }
  }
  return app.listen({ host, port: 0 });
}

/** Jobs a playground on the queue has with the workers at once (more wait in its own line). */
const REDIS_CONCURRENCY = 16;

/** `--redis`: a producer on the workers' queue, and the runner that hands jobs to it (loaded only then). */
async function connectQueue(redis: string, queue: string | undefined) {
  const { JobProducer, redactUrl } = await import('@mige/jobs');
  const { redisRunner } = await import('./redis-runner.js');
  const producer = await JobProducer.connect({ redis, ...(queue ? { queue } : {}) });
  return { producer, runner: redisRunner(producer), where: redactUrl(redis) };
}

async function main(): Promise<void> {
  const args = parseMainArgs(process.argv.slice(2), process.env);
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const backend = await initBackend({ ...(args.backend ? { backend: args.backend as BackendName } : {}), log: null });
  const { model, cliArg, description } = await loadPlaygroundModel(args.model);
  const uiDir = resolve(args.ui ?? defaultUiDir());
  const hasUi = existsSync(join(uiDir, 'index.html'));
  if (!hasUi) process.stderr.write(`warning: no built UI in ${uiDir}: run \`pnpm --filter @mige/playground build\`; serving the API only\n`);
  const queue = args.redis ? await connectQueue(args.redis, args.queue) : undefined;
  // A concrete address to listen on is also a name the server answers to.
  const listenHost = ['0.0.0.0', '::', ''].includes(args.host) ? [] : [args.host];
  const app = await createServer({
    model,
    modelArg: cliArg,
    ...(hasUi ? { uiDir } : {}),
    ...(queue ? { runner: queue.runner, concurrency: REDIS_CONCURRENCY } : {}),
    allowedHosts: [...args.allowHosts, ...listenHost],
    allowedOrigins: args.allowOrigins,
  });
  const address = await listen(app, args.host, args.port);
  const url = address.replace('://[::1]', '://localhost');
  const jobs = queue ? `jobs: on the workers of queue ${queue.producer.queueName} at ${queue.where}` : 'jobs: in this process';
  process.stdout.write(`MIGE playground: ${url}/\n  model: ${description}, ${model.config.imageSize} px; backend: ${backend.name}; ${jobs}\n  Ctrl+C stops it.\n`);
  let closing = false;
  const stop = () => {
    if (closing) process.exit(130);
    closing = true;
    void app
      .close()
      .then(() => queue?.producer.close())
      .then(() => {
        model.dispose();
        process.exit(0);
      });
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((e: unknown) => {
  const usage = e instanceof UsageError;
  const known = usage || e instanceof StartupError || e instanceof MigeInputError;
  const message = e instanceof Error ? (known ? e.message : (e.stack ?? e.message)) : String(e);
  process.stderr.write(`mige-playground: ${message}${usage ? '\n(mige-playground --help lists the flags)' : ''}\n`);
  process.exit(usage ? 2 : 1);
});
