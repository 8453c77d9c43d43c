import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import { admissionSide, Gate, imageBytes, modelFlowDefaults, type MigeModel } from '@mige/pipelines';
import { FLOW_NAMES, SAMPLER_NAMES, TERMINAL_EVENTS, type FlowDefaultsInfo, type FlowName, type InfoResponse, type PlaygroundLimits } from '../api/api-types.js';
import { flowRunner } from './flow-runner.js';
import { HttpError } from './http-error.js';
import { JobQueue, type JobRunner } from './job-queue.js';
import type { JobSpec } from './job-spec.js';
import { resolveLimits } from './limits.js';
import { buildPresets } from './presets.js';
import { openEventStream, writeEvent } from './sse.js';
import { registerAccessControl, type AccessOptions } from './security.js';
import { readStaticFile } from './static-files.js';
import { samplerName, validateJobRequest } from './validate-request.js';

export interface ServerOptions extends AccessOptions {
  model: MigeModel;
  /** Overrides of DEFAULT_LIMITS. */
  limits?: Partial<PlaygroundLimits>;
  /** The built UI (dist/ui); without it only the API is served. */
  uiDir?: string;
  /** What `mige --model` needs for the same model (shown in copied CLI commands); null: the default model. */
  modelArg?: string | null;
  /** Preview every this many steps; default about ten previews per run. */
  previewEvery?: number;
  /** Fastify's logger (default off). */
  logger?: boolean;
  /** Heartbeat comment interval on event streams, ms. */
  heartbeatMs?: number;
  /**
   * Runs the jobs (default: flowRunner on `model`, in this process, one at a time). The queue's
   * runner (redisRunner) hands them to workers instead, `concurrency` at a time.
   */
  runner?: JobRunner<JobSpec>;
  concurrency?: number;
}

function flowDefaults(model: MigeModel, maxSteps: number): Record<FlowName, FlowDefaultsInfo> {
  const out = {} as Record<FlowName, FlowDefaultsInfo>;
  for (const flow of FLOW_NAMES) {
    const d = modelFlowDefaults(model, flow);
    out[flow] = { steps: Math.min(d.steps, maxSteps), scales: { y: d.scales.y, s: d.scales.s }, sampler: samplerName(d.sampler) };
  }
  return out;
}

/**
 * The playground's HTTP server for one model: the JSON API under /api (see README.md) and the
 * built UI. Not listening yet: call `listen`, or `inject` in tests. Closing it cancels every job.
 */
export async function createServer(options: ServerOptions): Promise<FastifyInstance> {
  const { model } = options;
  const limits = resolveLimits(options.limits);
  const app = Fastify({ logger: options.logger ?? false, bodyLimit: limits.maxBodyBytes });
  // JSON only: a text/plain body is what a cross-site form can send without a CORS preflight.
  app.removeContentTypeParser('text/plain');
  // Unexpected failures always reach stderr, with or without Fastify's logger.
  const log = (message: string) => (options.logger ? app.log.error(message) : process.stderr.write(`mige-playground: ${message}\n`));
  const runner = options.runner ?? flowRunner(model, { ...(options.previewEvery ? { previewEvery: options.previewEvery } : {}), log });
  const queue = new JobQueue<JobSpec>(runner, {
    maxQueue: limits.maxQueue,
    concurrency: options.concurrency ?? 1,
    maxBytes: limits.maxQueueBytes,
    sizeOf: (spec) => imageBytes(spec.source ? [...spec.images, spec.source] : spec.images),
  });
  // Images are decoded one at a time and kept at the model's working size (pipelines' admission).
  const admission = { fitSide: admissionSide(model), gate: new Gate() };
  registerAccessControl(app, options);
  const info: InfoResponse = {
    model: { name: model.config.name, imageSize: model.config.imageSize, cliArg: options.modelArg === undefined ? model.config.name : options.modelArg },
    limits,
    defaults: flowDefaults(model, limits.maxSteps),
    samplers: SAMPLER_NAMES,
    presets: await buildPresets(model.config.imageSize),
  };
  const openStreams = new Set<() => void>();

  app.setErrorHandler((error: FastifyError | HttpError, request, reply) => {
    if (error instanceof HttpError) return reply.status(error.status).send({ error: error.message });
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return reply.status(413).send({ error: `the request body is over the limit of ${limits.maxBodyBytes} bytes` });
    if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return reply.status(415).send({ error: 'send the request body as application/json' });
    if (error.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') return reply.status(400).send({ error: 'the request body is empty: send a JSON object' });
    const status = error.statusCode ?? 500;
    if (status >= 500) log(`${request.method} ${request.url}: ${error.stack ?? error.message}`);
    const message = error.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || error instanceof SyntaxError ? `the request body is not valid JSON: ${error.message}` : error.message;
    return reply.status(status).send({ error: status >= 500 ? 'internal error' : message });
  });

  app.setNotFoundHandler((request, reply) => {
    reply.status(404).send({ error: `no route ${request.method} ${request.url.split('?')[0]}` });
  });

  app.get('/api/info', async () => info);

  app.post('/api/jobs', async (request, reply) => {
    // A full queue answers before any image is decoded.
    queue.assertRoom();
    const spec = await validateJobRequest(request.body, limits, (flow) => modelFlowDefaults(model, flow), admission);
    return reply.status(202).send(queue.submit(spec));
  });

  app.get<{ Params: { id: string } }>('/api/jobs/:id', async (request) => {
    const status = queue.status(request.params.id);
    if (!status) throw new HttpError(404, `no job ${request.params.id} (finished jobs are kept for a while only)`);
    return status;
  });

  app.delete<{ Params: { id: string } }>('/api/jobs/:id', async (request) => {
    const { id } = request.params;
    if (!queue.status(id)) throw new HttpError(404, `no job ${id}`);
    const cancelled = queue.cancel(id, 'cancelled by the user');
    return { ...(queue.status(id) as object), cancelled };
  });

  app.get<{ Params: { id: string } }>('/api/jobs/:id/events', async (request, reply) => {
    const { id } = request.params;
    if (!queue.status(id)) throw new HttpError(404, `no job ${id}`);
    reply.hijack();
    const res = reply.raw;
    openEventStream(res);
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      clearInterval(heartbeat);
      unsubscribe?.();
      openStreams.delete(end);
      res.end();
    };
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), options.heartbeatMs ?? 15_000);
    openStreams.add(end);
    const unsubscribe = queue.subscribe(id, (event) => {
      if (ended) return;
      writeEvent(res, event);
      if (TERMINAL_EVENTS.includes(event.type)) setImmediate(end);
    });
    res.on('close', () => {
      if (ended) return;
      ended = true;
      clearInterval(heartbeat);
      unsubscribe?.();
      openStreams.delete(end);
      // The client went away: unless the job asked otherwise (cancelOnDisconnect: false), nobody
      // is left to see the result, so stop spending the model on it.
      if (queue.listenerCount(id) === 0 && queue.specOf(id)?.cancelOnDisconnect !== false) queue.cancel(id, 'the client disconnected');
    });
  });

  app.get('/*', async (request, reply) => {
    if (request.url.startsWith('/api/')) throw new HttpError(404, `no API route ${request.method} ${request.url.split('?')[0]}`);
    if (!options.uiDir) throw new HttpError(404, 'this server has no UI (API only)');
    const file = await readStaticFile(options.uiDir, request.url);
    if (!file) throw new HttpError(404, `not found: ${request.url}`);
    return reply
      .type(file.type)
      .header('cache-control', file.immutable ? 'public, max-age=31536000, immutable' : 'no-cache')
      .send(file.body);
  });

  app.addHook('onClose', async () => {
    for (const end of [...openStreams]) end();
    for (const id of queue.ids()) queue.cancel(id, 'the server is shutting down');
    await queue.drain();
  });
  return app;
}
