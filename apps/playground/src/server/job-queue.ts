import { randomUUID } from 'node:crypto';
import { TERMINAL_EVENTS, type JobEvent, type JobState, type JobStatus } from '../api/api-types.js';
import { HttpError } from './http-error.js';

export type JobListener = (event: JobEvent) => void;

/** Runs one job: emits progress / preview events and resolves with the job's final event (done, error or cancelled). */
export type JobRunner<S> = (spec: S, signal: AbortSignal, emit: (event: JobEvent) => void) => Promise<JobEvent>;

interface Job<S> {
  id: string;
  /** Dropped once the job has finished, to free its images. */
  spec: S | undefined;
  /** What its spec holds in memory (sizeOf), counted against maxBytes until it finishes. */
  bytes: number;
  state: JobState;
  controller: AbortController;
  listeners: Set<JobListener>;
  /** The latest event of each type, replayed to a listener that subscribes late. */
  latest: Map<JobEvent['type'], JobEvent>;
}

export interface JobQueueOptions<S> {
  /** Jobs waiting behind the running ones. */
  maxQueue: number;
  /** Finished jobs kept for late subscribers (default 32). */
  keepFinished?: number;
  /** Jobs run at once (default 1: one model in this process; more with a job queue's workers behind the runner). */
  concurrency?: number;
  /** Bytes the specs of waiting and running jobs may hold together (default: no limit). */
  maxBytes?: number;
  /** What one spec holds in memory (default 0). */
  sizeOf?: (spec: S) => number;
}

/**
 * A FIFO queue that runs `concurrency` jobs at a time (one model in this process: 1; a job queue
 * of workers behind the runner: more). Position 0 is a running job, k the k-th waiting one;
 * waiting jobs hear `queued` whenever their position changes. Finished jobs are kept (up to
 * `keepFinished`) so a late subscriber still gets the result. The queue's memory is bounded:
 * at most `maxQueue` jobs wait, and the specs of waiting and running jobs hold at most `maxBytes`.
 */
export class JobQueue<S> {
  private readonly jobs = new Map<string, Job<S>>();
  private readonly waiting: Job<S>[] = [];
  private readonly running = new Map<Job<S>, Promise<void>>();
  private readonly finished: string[] = [];
  private heldBytes = 0;

  constructor(
    private readonly runner: JobRunner<S>,
    private readonly options: JobQueueOptions<S>,
  ) {}

  /** Throws HttpError 429 when a job of `bytes` would not be taken now (checked again by submit). */
  assertRoom(bytes = 0): void {
    if (this.waiting.length >= this.options.maxQueue) {
      throw new HttpError(429, `the queue is full (${this.options.maxQueue} jobs waiting): try again when one has finished`);
    }
    const max = this.options.maxBytes;
    if (max !== undefined && this.heldBytes + bytes > max) {
      const mb = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;
      throw new HttpError(429, `the queue holds ${mb(this.heldBytes)} of images and this job needs ${mb(bytes)}, over the limit of ${mb(max)}: try again when one has finished`);
    }
  }

  submit(spec: S): { id: string; position: number } {
    const bytes = this.options.sizeOf?.(spec) ?? 0;
    this.assertRoom(bytes);
    this.heldBytes += bytes;
    const job: Job<S> = { id: randomUUID(), spec, bytes, state: 'queued', controller: new AbortController(), listeners: new Set(), latest: new Map() };
    this.jobs.set(job.id, job);
    this.waiting.push(job);
    const position = this.positionOf(job) ?? 0;
    this.emit(job, { type: 'queued', position });
    this.pump();
    return { id: job.id, position };
  }

  /** The job's state and place; once it has finished, its final event too (for clients that poll). */
  status(id: string): JobStatus | undefined {
    const job = this.jobs.get(id);
    if (!job) return undefined;
    const result = isFinished(job.state) ? TERMINAL_EVENTS.map((type) => job.latest.get(type)).find((e) => e !== undefined) : undefined;
    return { id, state: job.state, position: this.positionOf(job), ...(result ? { result } : {}) };
  }

  /** The spec of a job that has not finished yet. */
  specOf(id: string): S | undefined {
    return this.jobs.get(id)?.spec;
  }

  /**
   * Calls `listener` with the job's latest events so far, then each new one; returns the
   * unsubscribe function, or undefined for an unknown job.
   */
  subscribe(id: string, listener: JobListener): (() => void) | undefined {
    const job = this.jobs.get(id);
    if (!job) return undefined;
    for (const type of ['queued', 'progress', 'preview', ...TERMINAL_EVENTS] as const) {
      const event = job.latest.get(type);
      if (event && (type !== 'queued' || job.state === 'queued')) listener(event);
    }
    if (isFinished(job.state)) return () => {};
    job.listeners.add(listener);
    return () => job.listeners.delete(listener);
  }

  ids(): string[] {
    return [...this.jobs.keys()];
  }

  listenerCount(id: string): number {
    return this.jobs.get(id)?.listeners.size ?? 0;
  }

  /** Cancels a waiting or running job; false when it had already finished (or is unknown). */
  cancel(id: string, reason: string): boolean {
    const job = this.jobs.get(id);
    if (!job || isFinished(job.state)) return false;
    const index = this.waiting.indexOf(job);
    if (index >= 0) {
      this.waiting.splice(index, 1);
      this.finish(job, { type: 'cancelled', reason });
      this.announcePositions();
    } else {
      // The runner sees the abort within one solver step and resolves with `cancelled`.
      job.controller.abort(new Error(reason));
    }
    return true;
  }

  /** Resolves when no job is running or waiting. */
  async drain(): Promise<void> {
    while (this.running.size > 0) await Promise.race(this.running.values());
  }

  private get full(): boolean {
    return this.running.size >= (this.options.concurrency ?? 1);
  }

  private positionOf(job: Job<S>): number | null {
    if (this.running.has(job)) return 0;
    const index = this.waiting.indexOf(job);
    return index < 0 ? null : index + 1 - (this.full ? 0 : 1);
  }

  private announcePositions(): void {
    for (const job of this.waiting) this.emit(job, { type: 'queued', position: this.positionOf(job) ?? 0 });
  }

  private pump(): void {
    while (!this.full) {
      const job = this.waiting.shift();
      if (!job) return;
      job.state = 'running';
      this.running.set(job, this.run(job));
      // Position 0: the job has the model now.
      this.emit(job, { type: 'queued', position: 0 });
      this.announcePositions();
    }
  }

  private async run(job: Job<S>): Promise<void> {
    // Let the submitter answer its HTTP request before the model takes the event loop.
    await new Promise((resolve) => setImmediate(resolve));
    let final: JobEvent;
    try {
      final = job.controller.signal.aborted
        ? { type: 'cancelled', reason: String((job.controller.signal.reason as Error | undefined)?.message ?? 'cancelled') }
        : await this.runner(job.spec as S, job.controller.signal, (event) => this.emit(job, event));
    } catch (e) {
      final = { type: 'error', message: e instanceof Error ? e.message : String(e) };
    }
    this.running.delete(job);
    this.finish(job, final);
    this.pump();
  }

  private finish(job: Job<S>, event: JobEvent): void {
    job.state = event.type === 'done' ? 'done' : event.type === 'cancelled' ? 'cancelled' : 'error';
    this.emit(job, event);
    job.listeners.clear();
    job.spec = undefined;
    this.heldBytes -= job.bytes;
    job.bytes = 0;
    // Previews and inputs are not needed once finished; the result stays for late subscribers.
    job.latest.delete('preview');
    this.finished.push(job.id);
    const keep = this.options.keepFinished ?? 32;
    while (this.finished.length > keep) this.jobs.delete(this.finished.shift() as string);
  }

  private emit(job: Job<S>, event: JobEvent): void {
    job.latest.set(event.type, event);
    for (const listener of [...job.listeners]) listener(event);
  }
}

function isFinished(state: JobState): boolean {
  return state === 'done' || state === 'error' || state === 'cancelled';
}
