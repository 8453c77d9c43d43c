import type { GenerationParams } from '@mige/pipelines';

/** Where a job is. */
export type JobState = 'waiting' | 'delayed' | 'active' | 'done' | 'failed' | 'cancelled';

/** A finished job's output. */
export interface JobResult {
  /** PNG bytes, numImages of them. */
  images: Buffer[];
  params: GenerationParams[];
  warnings: string[];
  /** Wall time of the attempt that finished, seconds. */
  seconds: number;
  /** The worker that made it. */
  worker: string;
}

/**
 * What `events(id)` yields, in order; `done`, `failed` and `cancelled` are the last. A job
 * whose worker dies, or whose run throws and is retried, goes back to `waiting` or `delayed`
 * and starts again (`active` once more, progress from step 1).
 */
export type JobEvent =
  /** In line: `position` 1 is next (null: not known). */
  | { type: 'waiting'; position: number | null }
  /** Held back until a retry's backoff or its client's rate limit allows it. */
  | { type: 'delayed' }
  | { type: 'active' }
  | { type: 'progress'; step: number; total: number }
  /** The decoded x0 prediction at `step` (PNG bytes), when the job asked for previews. */
  | { type: 'preview'; step: number; total: number; images: Buffer[] }
  | { type: 'done'; result: JobResult }
  | { type: 'failed'; message: string }
  | { type: 'cancelled'; reason: string };

export const FINAL_EVENTS: readonly JobEvent['type'][] = ['done', 'failed', 'cancelled'];

/** A snapshot of one job. */
export interface JobInfo {
  id: string;
  state: JobState;
  /** Waiting: 1 is next; otherwise null. */
  position: number | null;
  /** The last step reported by the current (or last) attempt. */
  progress: { step: number; total: number } | null;
  /** Attempts started so far (more than 1 after a retry or a worker's death). */
  attempts: number;
  /** The worker (its name) running it, or that ran its last attempt. */
  worker: string | undefined;
  priority: number;
  clientKey: string | undefined;
  /** Unix ms. */
  enqueuedAt: number | undefined;
  startedAt: number | undefined;
  finishedAt: number | undefined;
  /** Why it failed or was cancelled. */
  message: string | undefined;
}

/** Thrown by result() for a job that failed. */
export class JobFailedError extends Error {
  override readonly name = 'JobFailedError';
  constructor(
    readonly jobId: string,
    readonly reason: string,
  ) {
    super(`job ${jobId} failed: ${reason}`);
  }
}

/** Thrown by result() for a job that was cancelled. */
export class JobCancelledError extends Error {
  override readonly name = 'JobCancelledError';
  constructor(
    readonly jobId: string,
    readonly reason: string,
  ) {
    super(`job ${jobId} was cancelled: ${reason}`);
  }
}

/** An async queue of events: push from callbacks, pull with for-await. */
export class EventChannel<T> implements AsyncIterable<T> {
  private readonly items: T[] = [];
  private wake: (() => void) | undefined;
  private closed = false;

  push(item: T): void {
    this.items.push(item);
    this.wake?.();
  }

  close(): void {
    this.closed = true;
    this.wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (;;) {
      const item = this.items.shift();
      if (item !== undefined) {
        yield item;
        continue;
      }
      if (this.closed) return;
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = undefined;
    }
  }
}
