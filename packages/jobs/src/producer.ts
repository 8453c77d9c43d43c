import { randomUUID } from 'node:crypto';
import { MigeInputError } from '@mige/core';
import { validateFlowRequest, type FlowName, type FlowRequest } from '@mige/pipelines';
import { Queue, QueueEventsProducer, type Job, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { EventReader, streamIdAfter, type RawJobEvent } from './event-reader.js';
import { EventChannel, FINAL_EVENTS, JobCancelledError, JobFailedError, type JobEvent, type JobInfo, type JobResult, type JobState } from './job-events.js';
import { readImageRef, requestImageReader, travellingImage, type ImageInput } from './images.js';
import { queueMetrics, type QueueMetrics } from './metrics.js';
import { bullConnection, checkRedis, openRedis, queueKey, resolveQueueConfig, type QueueConfig, type ResolvedQueueConfig } from './queue-config.js';
import {
  CANCEL_REQUEST_EVENT,
  CANCELLED_REASON_PREFIX,
  cancelKeySuffix,
  DEFAULT_PRIORITY,
  MAX_PRIORITY,
  type JobData,
  type JobProgressData,
  type JobReturn,
} from './wire.js';

export interface ProducerOptions extends QueueConfig {
  /** Seconds a finished job and its result stay readable (default 3600). */
  resultTtlSeconds?: number;
  /** Seconds a failed or cancelled job stays readable (default 86,400). */
  failedTtlSeconds?: number;
  /** Runs per job when a run throws (not for bad input or cancellation); default 3. */
  attempts?: number;
  /** First retry after this many ms, doubling each time (default 2000). */
  backoffMs?: number;
  /** Connection errors after start-up (Redis restarting): the connections retry meanwhile. Default: ignored. */
  onError?: (error: Error) => void;
}

/** A FlowRequest whose images may also be PNG / JPEG bytes. */
export type EnqueueRequest = Omit<FlowRequest, 'images' | 'source'> & { images?: ImageInput[]; source?: ImageInput };

export interface EnqueueOptions {
  /** 1 runs first … 2,097,151 last; default 100. */
  priority?: number;
  /** Who asked: workers rate-limit job starts per key (`mige worker --rate-limit`). */
  clientKey?: string;
  /** Your own id: enqueueing an id that is still known does nothing (idempotent). Letters, digits, '_', '.', '-'. */
  jobId?: string;
  /** Decode a preview every this many steps (default 0: none). Each preview is a PNG per image in Redis's event stream. */
  previewEvery?: number;
}

const JOB_ID = /^(?=.*[A-Za-z_.-])[A-Za-z0-9_.-]{1,128}$/;

function positiveInt(value: number | undefined, fallback: number, field: string, min = 1): number {
  const v = value ?? fallback;
  if (!Number.isSafeInteger(v) || v < min) throw new MigeInputError(`must be an integer >= ${min}, got ${String(v)}`, field);
  return v;
}

/**
 * The producer side of the job queue: enqueue requests, follow their events, cancel them, read
 * their results and the queue's metrics. Any number of producers and workers can share a queue.
 */
export class JobProducer {
  private readonly reader: EventReader;
  private readonly jobOptions: JobsOptions;

  private constructor(
    private readonly config: ResolvedQueueConfig,
    private readonly queue: Queue<JobData, JobReturn, FlowName>,
    private readonly publisher: QueueEventsProducer,
    private readonly redis: Redis,
    private readonly cancelTtlMs: number,
    jobOptions: JobsOptions,
    onError: (error: Error) => void,
  ) {
    this.jobOptions = jobOptions;
    this.reader = new EventReader(config, redis, onError);
  }

  /** Connects to the queue (MigeInputError for bad options; rejects when Redis cannot be reached). */
  static async connect(options: ProducerOptions): Promise<JobProducer> {
    const config = resolveQueueConfig(options);
    const resultTtl = positiveInt(options.resultTtlSeconds, 3600, 'resultTtlSeconds');
    const failedTtl = positiveInt(options.failedTtlSeconds, 86_400, 'failedTtlSeconds');
    const attempts = positiveInt(options.attempts, 3, 'attempts');
    const backoffMs = positiveInt(options.backoffMs, 2000, 'backoffMs', 0);
    await checkRedis(config.redis);
    const onError = options.onError ?? (() => {});
    const connection = bullConnection(config.redis);
    // Previews make events big: keep the stream to a few thousand entries.
    const queue = new Queue<JobData, JobReturn, FlowName>(config.queue, { connection, prefix: config.prefix, streams: { events: { maxLen: 2000 } } });
    const publisher = new QueueEventsProducer(config.queue, { connection, prefix: config.prefix });
    queue.on('error', onError);
    publisher.on('error', onError);
    const redis = await openRedis(config.redis, onError);
    await Promise.all([queue.waitUntilReady(), publisher.waitUntilReady()]);
    const jobOptions: JobsOptions = {
      attempts,
      backoff: { type: 'exponential', delay: backoffMs },
      removeOnComplete: { age: resultTtl },
      removeOnFail: { age: failedTtl },
    };
    return new JobProducer(config, queue, publisher, redis, Math.max(resultTtl, failedTtl) * 1000, jobOptions, onError);
  }

  get queueName(): string {
    return this.config.queue;
  }

  /**
   * Checks the request with the flows' validator (the playground's), stores its images (inline
   * or in the store) and queues it; returns the job id. MigeInputError for bad input.
   */
  async enqueue(request: EnqueueRequest, options: EnqueueOptions = {}): Promise<string> {
    if (typeof request !== 'object' || request === null || Array.isArray(request)) throw new MigeInputError('a request must be an object');
    const priority = positiveInt(options.priority, DEFAULT_PRIORITY, 'priority');
    if (priority > MAX_PRIORITY) throw new MigeInputError(`must be at most ${MAX_PRIORITY}, got ${priority}`, 'priority');
    const previewEvery = positiveInt(options.previewEvery, 0, 'previewEvery', 0);
    const { clientKey, jobId } = options;
    if (clientKey !== undefined && (typeof clientKey !== 'string' || !/^[\x21-\x7e]{1,200}$/.test(clientKey))) {
      throw new MigeInputError(`must be 1-200 printable characters without spaces, got ${JSON.stringify(clientKey)}`, 'clientKey');
    }
    if (jobId !== undefined && !JOB_ID.test(jobId)) throw new MigeInputError(`must be 1-128 letters, digits, '_', '.' or '-', not only digits; got ${JSON.stringify(jobId)}`, 'jobId');
    const { store, limits } = this.config;
    const wire: Record<string, unknown> = { ...request };
    if (Array.isArray(request.images)) wire.images = await Promise.all(request.images.map((img, i) => travellingImage(img, `images[${i}]`, store, limits.maxImageBytes)));
    if (request.source !== undefined && request.source !== null) wire.source = await travellingImage(request.source, 'source', store, limits.maxImageBytes);
    // Fails here, not on a worker, for anything the workers would refuse (bar the model's own defaults).
    await validateFlowRequest(wire, limits, undefined, { readImage: requestImageReader(store) });
    // A job id used again after its job was cancelled and removed: the old cancellation no longer applies.
    if (jobId !== undefined && !(await this.queue.getJob(jobId))) await this.redis.del(queueKey(this.config, cancelKeySuffix(jobId)));
    const data: JobData = { request: wire as unknown as FlowRequest, ...(clientKey !== undefined ? { clientKey } : {}), ...(previewEvery > 0 ? { previewEvery } : {}) };
    const job = await this.queue.add(data.request.flow, data, { ...this.jobOptions, priority, ...(jobId !== undefined ? { jobId } : {}) });
    return job.id as string;
  }

  /** Where a job is now; undefined for an unknown (or expired) id. */
  async state(id: string): Promise<JobInfo | undefined> {
    return (await this.load(id))?.info;
  }

  /**
   * The job's events from now on, starting with where it is: an async iterable that ends after
   * `done`, `failed` or `cancelled` (or when `signal` aborts). MigeInputError for an unknown id.
   * (An event racing the first look at the job may repeat what that look showed.)
   */
  async *events(id: string, options: { signal?: AbortSignal } = {}): AsyncGenerator<JobEvent> {
    const channel = new EventChannel<RawJobEvent>();
    const unsubscribe = await this.reader.subscribe(id, (event) => channel.push(event));
    yield* this.follow(id, channel, unsubscribe, options.signal, true);
  }

  /**
   * enqueue() with its events from the very first (`waiting`) on: the subscription is made
   * before the job is added, so nothing is missed however fast a worker is. Iterate `events` to
   * its end (or return() it) to release the subscription.
   */
  async submit(request: EnqueueRequest, options: Omit<EnqueueOptions, 'jobId'> & { signal?: AbortSignal } = {}): Promise<{ id: string; events: AsyncGenerator<JobEvent> }> {
    const id = `job-${randomUUID()}`;
    const channel = new EventChannel<RawJobEvent>();
    const unsubscribe = await this.reader.subscribe(id, (event) => channel.push(event));
    try {
      const { signal, ...enqueueOptions } = options;
      await this.enqueue(request, { ...enqueueOptions, jobId: id });
      return { id, events: this.follow(id, channel, unsubscribe, signal, false) };
    } catch (e) {
      unsubscribe();
      throw e;
    }
  }

  private async *follow(id: string, channel: EventChannel<RawJobEvent>, unsubscribe: () => void, signal: AbortSignal | undefined, snapshot: boolean): AsyncGenerator<JobEvent> {
    const stop = () => channel.close();
    signal?.addEventListener('abort', stop, { once: true });
    try {
      let since = '0-0';
      if (snapshot) {
        // Events up to this one are in the snapshot below; later ones follow it.
        const [last] = await this.redis.xrevrange(this.queue.keys.events as string, '+', '-', 'COUNT', 1);
        since = last?.[0] ?? since;
        const loaded = await this.load(id);
        if (!loaded) throw new MigeInputError(`no job ${id} (finished jobs expire)`);
        for (const event of await this.snapshotEvents(loaded.info, loaded.job)) {
          yield event;
          if (FINAL_EVENTS.includes(event.type)) return;
        }
      }
      for await (const raw of channel) {
        if (!streamIdAfter(raw.streamId, since)) continue;
        const event = await this.toEvent(id, raw);
        if (!event) continue;
        yield event;
        if (FINAL_EVENTS.includes(event.type)) return;
      }
    } finally {
      signal?.removeEventListener('abort', stop);
      unsubscribe();
    }
  }

  /** Waits for the job's end: its result, or JobFailedError / JobCancelledError; `signal` stops the wait (its reason is thrown). */
  async result(id: string, options: { signal?: AbortSignal } = {}): Promise<JobResult> {
    for await (const event of this.events(id, options)) {
      if (event.type === 'done') return event.result;
      if (event.type === 'failed') throw new JobFailedError(id, event.message);
      if (event.type === 'cancelled') throw new JobCancelledError(id, event.reason);
    }
    throw options.signal?.reason ?? new Error(`the events of job ${id} ended without a result`);
  }

  /**
   * Cancels a job: a waiting one leaves the queue; a running one stops within one sampling step
   * on its worker. False when it had already finished or is unknown.
   */
  async cancel(id: string, reason = 'cancelled'): Promise<boolean> {
    const job = await this.queue.getJob(id);
    if (!job) return false;
    const state = await job.getState();
    if (state === 'completed' || state === 'failed' || state === 'unknown') return false;
    // Recorded first: a worker that takes the job from now on refuses it, and state() reports it.
    await this.redis.set(queueKey(this.config, cancelKeySuffix(id)), reason, 'PX', this.cancelTtlMs);
    if (state !== 'active') {
      try {
        await job.remove();
        return true;
      } catch {
        // It started meanwhile: ask its worker.
      }
    }
    await this.publisher.publishEvent({ eventName: CANCEL_REQUEST_EVENT, jobId: id, reason });
    return true;
  }

  /** Runs a failed or cancelled job again under the same id; false when it is not failed (or is gone). */
  async retry(id: string): Promise<boolean> {
    const job = await this.queue.getJob(id);
    if (!job || (await job.getState()) !== 'failed') return false;
    await this.redis.del(queueKey(this.config, cancelKeySuffix(id)));
    await job.retry('failed');
    return true;
  }

  /** The job's log lines (a worker notes retries, requeues and where a cancellation stopped it). */
  async logs(id: string): Promise<string[]> {
    return (await this.queue.getJobLogs(id)).logs;
  }

  /** Jobs waiting or delayed (not running). */
  async depth(): Promise<number> {
    const c = await this.queue.getJobCounts('waiting', 'prioritized', 'delayed');
    return (c.waiting ?? 0) + (c.prioritized ?? 0) + (c.delayed ?? 0);
  }

  /** Queue depth, job counts, throughput per minute and job time percentiles. */
  async metrics(): Promise<QueueMetrics> {
    return queueMetrics(this.queue, this.redis);
  }

  async close(): Promise<void> {
    await this.reader.close();
    await Promise.allSettled([this.queue.close(), this.publisher.close()]);
    await this.redis.quit().catch(() => this.redis.disconnect());
  }

  private async load(id: string): Promise<{ info: JobInfo; job: Job<JobData, JobReturn, FlowName> | undefined } | undefined> {
    // The state first: a job read after it is at least as new, and any change after the state
    // read comes as an event.
    const bullState = await this.queue.getJobState(id);
    const job = bullState === 'unknown' ? undefined : await this.queue.getJob(id);
    if (!job || bullState === 'unknown') {
      const reason = await this.redis.get(queueKey(this.config, cancelKeySuffix(id)));
      if (reason === null) return undefined;
      const info: JobInfo = { id, state: 'cancelled', position: null, progress: null, attempts: 0, worker: undefined, priority: 0, clientKey: undefined, enqueuedAt: undefined, startedAt: undefined, finishedAt: undefined, message: reason };
      return { info, job: undefined };
    }
    const failedReason = job.failedReason ?? '';
    const state: JobState =
      bullState === 'completed'
        ? 'done'
        : bullState === 'failed'
          ? failedReason.startsWith(CANCELLED_REASON_PREFIX)
            ? 'cancelled'
            : 'failed'
          : bullState === 'active'
            ? 'active'
            : bullState === 'delayed'
              ? 'delayed'
              : 'waiting';
    const progress = job.progress as Partial<JobProgressData> | number | undefined;
    const info: JobInfo = {
      id,
      state,
      position: state === 'waiting' ? await this.position(id, bullState) : null,
      progress: typeof progress === 'object' && progress !== null && typeof progress.step === 'number' ? { step: progress.step, total: progress.total ?? 0 } : null,
      attempts: job.attemptsStarted,
      worker: job.processedBy,
      priority: job.opts.priority ?? 0,
      clientKey: job.data.clientKey,
      enqueuedAt: job.timestamp,
      startedAt: job.processedOn,
      finishedAt: job.finishedOn,
      message: state === 'failed' ? failedReason : state === 'cancelled' ? failedReason.slice(CANCELLED_REASON_PREFIX.length) : undefined,
    };
    return { info, job };
  }

  /** 1 + the jobs that run before it: all of the plain wait list, then the prioritized set in order. */
  private async position(id: string, bullState: string): Promise<number | null> {
    const waitKey = this.queue.keys.wait as string;
    if (bullState === 'prioritized') {
      const [waiting, rank] = await Promise.all([this.redis.llen(waitKey), this.redis.zrank(this.queue.keys.prioritized as string, id)]);
      return rank === null ? null : waiting + rank + 1;
    }
    // Workers take the wait list from its right end.
    const ids = await this.redis.lrange(waitKey, 0, -1);
    const index = ids.indexOf(id);
    return index < 0 ? null : ids.length - index;
  }

  private async snapshotEvents(info: JobInfo, job: Job<JobData, JobReturn, FlowName> | undefined): Promise<JobEvent[]> {
    switch (info.state) {
      case 'waiting':
        return [{ type: 'waiting', position: info.position }];
      case 'delayed':
        return [{ type: 'delayed' }];
      case 'active':
        return [{ type: 'active' }, ...(info.progress ? [{ type: 'progress' as const, ...info.progress }] : [])];
      case 'done':
        return [{ type: 'done', result: await this.toResult(job?.returnvalue as JobReturn) }];
      case 'failed':
        return [{ type: 'failed', message: info.message ?? 'failed' }];
      case 'cancelled':
        return [{ type: 'cancelled', reason: info.message ?? 'cancelled' }];
    }
  }

  private async toEvent(id: string, raw: RawJobEvent): Promise<JobEvent | undefined> {
    switch (raw.type) {
      case 'waiting': {
        const job = await this.queue.getJob(id);
        return { type: 'waiting', position: job ? await this.position(id, await job.getState()) : null };
      }
      case 'delayed':
        return { type: 'delayed' };
      case 'active':
        return { type: 'active' };
      case 'progress': {
        const p = raw.data as JobProgressData;
        if (!p.preview) return { type: 'progress', step: p.step, total: p.total };
        return { type: 'preview', step: p.step, total: p.total, images: await Promise.all(p.preview.map((ref) => readImageRef(ref, this.config.store))) };
      }
      case 'completed':
        return { type: 'done', result: await this.toResult(raw.returnvalue as JobReturn) };
      case 'failed':
        return raw.failedReason.startsWith(CANCELLED_REASON_PREFIX)
          ? { type: 'cancelled', reason: raw.failedReason.slice(CANCELLED_REASON_PREFIX.length) }
          : { type: 'failed', message: raw.failedReason };
      case 'removed': {
        const reason = await this.redis.get(queueKey(this.config, cancelKeySuffix(id)));
        return { type: 'cancelled', reason: reason ?? 'removed from the queue' };
      }
    }
  }

  private async toResult(ret: JobReturn): Promise<JobResult> {
    const images = await Promise.all(ret.images.map((ref) => readImageRef(ref, this.config.store)));
    return { images, params: ret.params, warnings: ret.warnings, seconds: ret.seconds, worker: ret.worker };
  }
}

