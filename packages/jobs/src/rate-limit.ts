import { MigeInputError } from '@mige/core';
import type { Redis } from 'ioredis';

/** At most `max` job starts per `durationMs` for each client key. */
export interface RateLimit {
  max: number;
  durationMs: number;
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** `10/60s`, `100/1h`, `5/500ms` → a RateLimit; MigeInputError otherwise. */
export function parseRateLimit(text: string): RateLimit {
  const m = /^(\d+)\/(\d+)(ms|s|m|h)$/.exec(text.trim());
  const max = Number(m?.[1]);
  const durationMs = Number(m?.[2]) * (UNITS[m?.[3] ?? ''] ?? NaN);
  if (!m || !Number.isSafeInteger(max) || max < 1 || !Number.isSafeInteger(durationMs) || durationMs < 1) {
    throw new MigeInputError(`must be <jobs>/<time> with a unit ms, s, m or h, e.g. 10/60s; got ${JSON.stringify(text)}`, 'rate limit');
  }
  return { max, durationMs };
}

/**
 * Takes one start from the client's current fixed window (a Redis counter that expires with
 * it); returns 0 when granted, else the time (unix ms) the next window opens.
 */
export async function takeRateSlot(redis: Redis, key: string, limit: RateLimit, now: number): Promise<number> {
  const window = Math.floor(now / limit.durationMs);
  const windowKey = `${key}:${window}`;
  const [[, count] = []] = (await redis.multi().incr(windowKey).pexpire(windowKey, limit.durationMs * 2).exec()) ?? [];
  return Number(count) <= limit.max ? 0 : (window + 1) * limit.durationMs;
}
