import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';

/** Percentiles of a set of durations, seconds. */
export interface DurationStats {
  count: number;
  p50: number;
  p95: number;
  max: number;
}

export interface QueueMetrics {
  /** Jobs not started yet: waiting + delayed (the queue depth). */
  depth: number;
  waiting: number;
  /** Held back by a retry's backoff or a client's rate limit. */
  delayed: number;
  active: number;
  /** Finished and not yet expired. */
  completed: number;
  /** Failed or cancelled, not yet expired. */
  failed: number;
  /** Jobs finished per minute, newest minute first, over the last hour (workers record them). */
  completedPerMinute: number[];
  failedPerMinute: number[];
  /** Run time (start of the last attempt → finish) of the latest completed jobs (up to 100). */
  jobSeconds: DurationStats | null;
  /** Time from enqueue to the start of the last attempt, same jobs. */
  waitSeconds: DurationStats | null;
}

const RECENT = 100;

/** The nearest-rank percentile of sorted values. */
function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number;
}

export function durationStats(values: number[]): DurationStats | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return { count: sorted.length, p50: percentile(sorted, 50), p95: percentile(sorted, 95), max: sorted[sorted.length - 1] as number };
}

/**
 * BullMQ's counts and per-minute metrics, plus the timings of the latest completed jobs, read
 * from their hashes' timestamps only (not their images).
 */
export async function queueMetrics(queue: Queue, redis: Redis): Promise<QueueMetrics> {
  const [counts, completedM, failedM, recent] = await Promise.all([
    queue.getJobCounts('waiting', 'prioritized', 'delayed', 'active', 'completed', 'failed'),
    queue.getMetrics('completed', 0, 59),
    queue.getMetrics('failed', 0, 59),
    redis.zrevrange(queue.keys.completed as string, 0, RECENT - 1),
  ]);
  const pipeline = redis.pipeline();
  for (const id of recent) pipeline.hmget(queue.toKey(id), 'timestamp', 'processedOn', 'finishedOn');
  const rows = ((await pipeline.exec()) ?? []).map(([, row]) => (row as (string | null)[]).map(Number));
  const timed = rows.filter((r) => r.every((v) => Number.isFinite(v) && v > 0)) as [number, number, number][];
  const waiting = (counts.waiting ?? 0) + (counts.prioritized ?? 0);
  const delayed = counts.delayed ?? 0;
  return {
    depth: waiting + delayed,
    waiting,
    delayed,
    active: counts.active ?? 0,
    completed: counts.completed ?? 0,
    failed: counts.failed ?? 0,
    completedPerMinute: completedM.data,
    failedPerMinute: failedM.data,
    jobSeconds: durationStats(timed.map(([, start, end]) => (end - start) / 1000)),
    waitSeconds: durationStats(timed.map(([enq, start]) => (start - enq) / 1000)),
  };
}
