import { MigeInputError } from '@mige/core';
import { QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { DEFAULT_REQUEST_LIMITS, type RequestLimits } from '@mige/pipelines';
import { LocalFolderStore, type ImageStore } from './store.js';

/** Where the queue lives; producers and workers of one queue must agree on all of it. */
export interface QueueConfig {
  /** `redis://[user:password@]host:port[/db]` (or `rediss://` for TLS). */
  redis: string;
  /** The queue's name (default `mige`): one queue per model. */
  queue?: string;
  /** Prefix of every Redis key (default `mige`). */
  prefix?: string;
  /**
   * Where images travel: omitted, inline in Redis as PNG bytes (base64); a folder path (shared
   * by every producer and worker, e.g. a network mount) or an ImageStore, as references.
   */
  store?: string | ImageStore;
  /** Request limits, checked by producers and workers alike (default DEFAULT_REQUEST_LIMITS). */
  limits?: Partial<RequestLimits>;
}

export const DEFAULT_QUEUE = 'mige';
export const DEFAULT_PREFIX = 'mige';

export interface ResolvedQueueConfig {
  redis: string;
  queue: string;
  prefix: string;
  store: ImageStore | undefined;
  limits: RequestLimits;
}

/** Checks a QueueConfig and fills its defaults; MigeInputError naming the bad field. */
export function resolveQueueConfig(config: QueueConfig): ResolvedQueueConfig {
  if (typeof config.redis !== 'string' || !/^rediss?:\/\/[^\s]+$/.test(config.redis)) {
    throw new MigeInputError(`must be a redis:// or rediss:// URL, got ${JSON.stringify(config.redis)}`, 'redis');
  }
  const queue = config.queue ?? DEFAULT_QUEUE;
  const prefix = config.prefix ?? DEFAULT_PREFIX;
  for (const [field, value] of [['queue', queue], ['prefix', prefix]] as const) {
    // BullMQ joins names with ':' into Redis keys.
    if (typeof value !== 'string' || !/^[A-Za-z0-9_.-]{1,64}$/.test(value)) throw new MigeInputError(`must be 1-64 letters, digits, '_', '.' or '-', got ${JSON.stringify(value)}`, field);
  }
  const limits = { ...DEFAULT_REQUEST_LIMITS, ...config.limits };
  for (const [key, value] of Object.entries(limits)) {
    if (!Number.isSafeInteger(value) || value < 1) throw new MigeInputError(`must be a positive integer, got ${String(value)}`, `limits.${key}`);
  }
  const store = typeof config.store === 'string' ? new LocalFolderStore(config.store) : config.store;
  return { redis: config.redis, queue, prefix, store, limits };
}

/** BullMQ's connection options for a URL: commands wait for a reconnect rather than fail (BullMQ requires it of workers). */
export function bullConnection(url: string): { url: string; maxRetriesPerRequest: null } {
  return { url, maxRetriesPerRequest: null };
}

/** A Redis key of this queue's own (BullMQ's layout: prefix:queue:suffix). */
export function queueKey(config: ResolvedQueueConfig, suffix: string): string {
  return `${config.prefix}:${config.queue}:${suffix}`;
}

/** The URL without its password, for messages and logs. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}

/**
 * Connects once without retrying, so that an unreachable Redis is one clear error at start-up
 * (BullMQ's own connections retry for ever, as a running worker should).
 */
export async function checkRedis(url: string): Promise<void> {
  const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 5000, enableOfflineQueue: false });
  let cause: Error | undefined;
  probe.on('error', (e: Error) => (cause ??= e));
  try {
    await probe.connect();
    await probe.ping();
  } catch (e) {
    const why = (cause ?? (e instanceof Error ? e : new Error(String(e)))).message;
    throw new MigeInputError(`cannot reach Redis at ${redactUrl(url)}: ${why}`, 'redis');
  } finally {
    probe.disconnect();
  }
}

/** A Redis client for the keys of our own (cancellations, rate windows): reconnects, errors go to `onError`. */
export async function openRedis(url: string, onError: (e: Error) => void): Promise<Redis> {
  const redis = new Redis(url, { maxRetriesPerRequest: null, lazyConnect: true });
  redis.on('error', onError);
  await redis.connect();
  return redis;
}

/**
 * A QueueEvents reader that sees every event published after this call: it starts from the
 * stream's current last entry, not from wherever the stream ends when its first read happens.
 */
export async function openQueueEvents(config: ResolvedQueueConfig, redis: Redis, onError: (e: Error) => void): Promise<QueueEvents> {
  const [last] = await redis.xrevrange(queueKey(config, 'events'), '+', '-', 'COUNT', 1);
  const events = new QueueEvents(config.queue, { connection: bullConnection(config.redis), prefix: config.prefix, lastEventId: last?.[0] ?? '0-0' });
  events.on('error', onError);
  await events.waitUntilReady();
  return events;
}
