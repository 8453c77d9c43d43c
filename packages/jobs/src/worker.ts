import { hostname } from 'node:os';
import { encodeImage, MigeInputError } from '@mige/core';
import { admissionSide, modelFlowDefaults, pngDataUrl, runFlowJob, validateFlowRequest, type FlowName, type FlowResult, type MigeModel } from '@mige/pipelines';
import { DelayedError, MetricsTime, UnrecoverableError, WaitingError, Worker, type Job, type QueueEvents, type QueueEventsListener } from 'bullmq';
import type { Redis } from 'ioredis';
import { requestImageReader } from './images.js';
import { bullConnection, checkRedis, openQueueEvents, openRedis, queueKey, resolveQueueConfig, type QueueConfig, type ResolvedQueueConfig } from './queue-config.js';
import { parseRateLimit, takeRateSlot, type RateLimit } from './rate-limit.js';
import { CANCEL_REQUEST_EVENT, CANCELLED_REASON_PREFIX, cancelKeySuffix, SHUTDOWN_REASON, type JobData, type JobProgressData, type JobReturn } from './wire.js';

export interface FlowWorkerOptions extends QueueConfig {
  /** The model every job of this queue runs on: loaded once, by the caller, who disposes it after close(). */
  model: MigeModel;
  /** Jobs at once in this process (default 1: the model computes on one thread; run more processes instead). */
  concurrency?: number;
  /** At most `max` job starts per `durationMs` for each client key (jobs over it wait, delayed, for the next window). */
  rateLimit?: RateLimit | string;
  /**
   * A job's lock lasts this long and is renewed at half of it between sampling steps (default
   * 60 s). It must exceed the longest single step or decode, or a busy job looks stalled.
   */
  lockMs?: number;
  /** How often workers look for jobs whose worker died (lock expired), ms (default 30 s). */
  stalledIntervalMs?: number;
  /** Worker deaths a job survives before it fails (default 2). */
  maxStalledCount?: number;
  /** close() waits this long for running jobs, then stops them and puts them back in the queue (default 30 s). */
  graceMs?: number;
  /** Shown in results and logs (default host:pid). */
  name?: string;
  /** One line per job event (default: none). */
  log?: (line: string) => void;
}

interface CancelListener extends QueueEventsListener {
  [CANCEL_REQUEST_EVENT]: (args: { jobId: string; reason: string }, id: string) => void;
}

function positive(value: number | undefined, fallback: number, field: string, min = 1): number {
  const v = value ?? fallback;
  if (!Number.isSafeInteger(v) || v < min) throw new MigeInputError(`must be an integer >= ${min}, got ${String(v)}`, field);
  return v;
}

/**
 * A BullMQ worker that runs generate / edit / compose jobs on one loaded model. Requests are
 * checked with the same validator as the playground's and the producers'; bad input and
 * cancellation fail a job at once, other errors are retried with backoff, and a job whose
 * worker dies is taken up by another one (BullMQ's stalled-job check).
 */
export class FlowWorker {
  private constructor(
    readonly name: string,
    private readonly worker: Worker<JobData, JobReturn, FlowName>,
    private readonly cancels: QueueEvents,
    private readonly redis: Redis,
    private readonly graceMs: number,
  ) {}

  static async start(options: FlowWorkerOptions): Promise<FlowWorker> {
    const config = resolveQueueConfig(options);
    const { model } = options;
    const concurrency = positive(options.concurrency, 1, 'concurrency');
    const lockDuration = positive(options.lockMs, 60_000, 'lockMs', 1000);
    const stalledInterval = positive(options.stalledIntervalMs, 30_000, 'stalledIntervalMs', 100);
    const maxStalledCount = positive(options.maxStalledCount, 2, 'maxStalledCount', 0);
    const graceMs = positive(options.graceMs, 30_000, 'graceMs', 0);
    const rateLimit = typeof options.rateLimit === 'string' ? parseRateLimit(options.rateLimit) : options.rateLimit;
    const name = options.name ?? `${hostname()}:${process.pid}`;
    const log = options.log ?? (() => {});
    await checkRedis(config.redis);
    const onError = (e: Error) => log(`redis: ${e.message}`);
    const redis = await openRedis(config.redis, onError);
    const cancels = await openQueueEvents(config, redis, onError);
    const processor = jobProcessor({ model, config, redis, rateLimit, name, log });
    const worker = new Worker<JobData, JobReturn, FlowName>(config.queue, (job, token, signal) => processor(job, token, signal), {
      connection: bullConnection(config.redis),
      prefix: config.prefix,
      name,
      concurrency,
      lockDuration,
      stalledInterval,
      maxStalledCount,
      metrics: { maxDataPoints: MetricsTime.ONE_WEEK },
    });
    // Attached in the same tick as the worker starts: no job of it can have begun yet.
    cancels.on<CancelListener>(CANCEL_REQUEST_EVENT, ({ jobId, reason }: { jobId: string; reason: string }) => {
      if (worker.cancelJob(jobId, reason)) log(`cancel ${jobId}: ${reason}`);
    });
    // Logged once BullMQ has recorded the result: a run whose lock was lost meanwhile (its job
    // taken over as stalled) is not recorded, and not logged as done.
    worker.on('completed', (job, result) => log(`done ${job.id} in ${result.seconds} s`));
    worker.on('error', (e) => log(`worker error: ${e.message}`));
    worker.on('stalled', (jobId) => log(`stalled ${jobId}: its worker died; back in the queue`));
    await worker.waitUntilReady();
    return new FlowWorker(name, worker, cancels, redis, graceMs);
  }

  /**
   * Stops taking jobs, lets running ones finish for up to `graceMs`, then stops them within one
   * step and puts them back in the queue (another worker starts them again), and disconnects.
   */
  async close(): Promise<void> {
    const timer = setTimeout(() => this.worker.cancelAllJobs(SHUTDOWN_REASON), this.graceMs);
    try {
      await this.worker.close();
    } finally {
      clearTimeout(timer);
      await this.cancels.close();
      await this.redis.quit().catch(() => this.redis.disconnect());
    }
  }

  /** Stops running jobs now (back to the queue) and closes: a second SIGTERM. */
  requeueNow(): void {
    this.worker.cancelAllJobs(SHUTDOWN_REASON);
  }
}

interface ProcessorContext {
  model: MigeModel;
  config: ResolvedQueueConfig;
  redis: Redis;
  rateLimit: RateLimit | undefined;
  name: string;
  log: (line: string) => void;
}

function jobProcessor(ctx: ProcessorContext) {
  const { model, config, redis, name, log } = ctx;
  const readImage = requestImageReader(config.store);
  const fitSide = admissionSide(model);
  return async (job: Job<JobData, JobReturn, FlowName>, token: string | undefined, signal: AbortSignal | undefined): Promise<JobReturn> => {
    const id = job.id as string;
    const cancelled = await redis.get(queueKey(config, cancelKeySuffix(id)));
    if (cancelled !== null) throw new UnrecoverableError(`${CANCELLED_REASON_PREFIX}${cancelled}`);
    if (ctx.rateLimit && job.data.clientKey !== undefined) {
      // Counted at the job's start as BullMQ records it (processedOn, what state() reports as startedAt), not
      // whenever this line runs: on a loaded machine that can be in the next window.
      const retryAt = await takeRateSlot(redis, queueKey(config, `mige-rate:${job.data.clientKey}`), ctx.rateLimit, job.processedOn ?? Date.now());
      if (retryAt > 0) {
        log(`rate-limited ${id} (client ${job.data.clientKey}) until ${new Date(retryAt).toISOString()}`);
        await job.moveToDelayed(retryAt, token);
        throw new DelayedError();
      }
    }
    const started = performance.now();
    let spec;
    try {
      // As the playground admits them: one image at a time, fitted to the model's size (the same pixels either way).
      spec = await validateFlowRequest(job.data.request, config.limits, (flow) => modelFlowDefaults(model, flow), { readImage, fitSide });
    } catch (e) {
      if (e instanceof MigeInputError) throw new UnrecoverableError(e.message);
      throw e;
    }
    log(`start ${id} (attempt ${job.attemptsStarted}): ${spec.flow}, ${spec.options.steps} steps`);
    let lastStep = 0;
    let abortedAfter: number | undefined;
    signal?.addEventListener('abort', () => (abortedAfter = lastStep), { once: true });
    const updates: Promise<unknown>[] = [];
    const progress = (p: JobProgressData) => updates.push(job.updateProgress(p as unknown as object).catch(() => {}));
    let result: FlowResult | undefined;
    try {
      result = await runFlowJob(model, spec, {
        ...(signal ? { signal } : {}),
        previewEvery: job.data.previewEvery ?? 0,
        onProgress: (step, total) => {
          lastStep = step;
          progress({ step, total });
        },
        onPreview: (step, images) => {
          updates.push(Promise.all(images.map(async (img) => pngDataUrl(await encodeImage(img, 'png')))).then((preview) => progress({ step, total: spec.options.steps, preview })));
        },
      });
      const images = await Promise.all(
        result.images.map((img, k) => (config.store ? config.store.put(`results/${id}-${k}.png`, img.png) : pngDataUrl(img.png))),
      );
      await Promise.allSettled(updates);
      const seconds = Math.round(performance.now() - started) / 1000;
      return { images, params: result.images.map((img) => img.params), warnings: result.warnings, seconds, worker: name };
    } catch (e) {
      await Promise.allSettled(updates);
      if (signal?.aborted) {
        const reason = String(signal.reason ?? 'cancelled');
        if (reason === SHUTDOWN_REASON) {
          log(`requeue ${id}: the worker is shutting down (stopped after step ${lastStep})`);
          await job.moveToWait(token);
          throw new WaitingError();
        }
        const line = `cancel arrived after step ${abortedAfter ?? lastStep} of ${spec.options.steps}; sampling stopped after step ${lastStep}`;
        log(`cancelled ${id}: ${line}`);
        await job.log(line);
        throw new UnrecoverableError(`${CANCELLED_REASON_PREFIX}${reason}`);
      }
      if (e instanceof MigeInputError) throw new UnrecoverableError(e.message);
      log(`failed ${id} (attempt ${job.attemptsStarted}): ${e instanceof Error ? e.message : String(e)}`);
      throw e;
    } finally {
      result?.tensor.dispose();
    }
  };
}
