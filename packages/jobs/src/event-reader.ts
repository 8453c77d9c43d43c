import type { QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import { openQueueEvents, type ResolvedQueueConfig } from './queue-config.js';

/** The BullMQ queue events a producer follows, per job. */
export type RawJobEvent = { streamId: string } & (
  | { type: 'waiting' | 'delayed' | 'active' | 'removed' }
  | { type: 'progress'; data: unknown }
  | { type: 'completed'; returnvalue: unknown }
  | { type: 'failed'; failedReason: string }
);

/** Orders Redis stream ids (`<ms>-<seq>`). */
export function streamIdAfter(a: string, b: string): boolean {
  const [am = 0, as = 0] = a.split('-').map(Number);
  const [bm = 0, bs = 0] = b.split('-').map(Number);
  return am > bm || (am === bm && as > bs);
}

/**
 * One QueueEvents reader (one Redis connection) for all of a producer's subscriptions, routing
 * each event to the listeners of its job. It starts on the first subscription, reading from the
 * stream's end as it was then, so no event published after a subscription returns is missed.
 */
export class EventReader {
  private readonly listeners = new Map<string, Set<(event: RawJobEvent) => void>>();
  private events: QueueEvents | undefined;
  private live: Promise<void> | undefined;

  constructor(
    private readonly config: ResolvedQueueConfig,
    private readonly redis: Redis,
    private readonly onError: (error: Error) => void,
  ) {}

  /** Calls `listener` with every event of job `id` from now on; returns the unsubscribe function. */
  async subscribe(id: string, listener: (event: RawJobEvent) => void): Promise<() => void> {
    let set = this.listeners.get(id);
    if (!set) this.listeners.set(id, (set = new Set()));
    set.add(listener);
    const unsubscribe = () => {
      set.delete(listener);
      if (set.size === 0 && this.listeners.get(id) === set) this.listeners.delete(id);
    };
    try {
      await this.start();
    } catch (e) {
      unsubscribe();
      throw e;
    }
    return unsubscribe;
  }

  async close(): Promise<void> {
    this.listeners.clear();
    await this.events?.close();
  }

  private route(id: string, event: RawJobEvent): void {
    for (const listener of [...(this.listeners.get(id) ?? [])]) listener(event);
  }

  private start(): Promise<void> {
    this.live ??= (async () => {
      const events = await openQueueEvents(this.config, this.redis, this.onError);
      this.events = events;
      events.on('waiting', ({ jobId }, streamId) => this.route(jobId, { type: 'waiting', streamId }));
      events.on('delayed', ({ jobId }, streamId) => this.route(jobId, { type: 'delayed', streamId }));
      events.on('active', ({ jobId }, streamId) => this.route(jobId, { type: 'active', streamId }));
      events.on('removed', ({ jobId }, streamId) => this.route(jobId, { type: 'removed', streamId }));
      events.on('progress', ({ jobId, data }, streamId) => this.route(jobId, { type: 'progress', data, streamId }));
      events.on('completed', ({ jobId, returnvalue }, streamId) => this.route(jobId, { type: 'completed', returnvalue, streamId }));
      events.on('failed', ({ jobId, failedReason }, streamId) => this.route(jobId, { type: 'failed', failedReason, streamId }));
    })();
    // A failed start (Redis gone) is tried again by the next subscription.
    this.live.catch(() => (this.live = undefined));
    return this.live;
  }
}
