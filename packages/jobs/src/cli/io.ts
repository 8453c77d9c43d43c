import { parseArgs } from 'node:util';
import { MigeInputError } from '@mige/core';
import { UsageError } from '@mige/pipelines';

export { UsageError };

export type Options = Record<string, { type: 'string' | 'boolean'; short?: string }>;
export type Values = Record<string, string | boolean | undefined>;

/** node:util parseArgs, strict, with its errors as one-line usage errors. */
export function parseOptions(argv: readonly string[], options: Options): Values {
  try {
    const { values, positionals } = parseArgs({ args: [...argv], options: { ...options, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: true });
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    return values as Values;
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError((e instanceof Error ? e.message : String(e)).split('\n')[0] ?? 'bad arguments');
  }
}

export function stringOption(v: Values, name: string): string | undefined {
  const x = v[name];
  return typeof x === 'string' ? x : undefined;
}

export function requiredOption(v: Values, name: string, env?: string): string {
  const x = stringOption(v, name) ?? (env ? process.env[env] || undefined : undefined);
  if (x === undefined || x === '') throw new UsageError(`--${name} is required${env ? ` (or env ${env})` : ''}`);
  return x;
}

/** An integer option in [min, max]; undefined when absent. */
export function intOption(v: Values, name: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  const s = stringOption(v, name);
  if (s === undefined) return undefined;
  const n = Number(s);
  if (s.trim() === '' || !Number.isSafeInteger(n) || n < min || n > max) throw new MigeInputError(`must be an integer from ${min} to ${max}, got "${s}"`, `--${name}`);
  return n;
}

/** --redis, --queue, --prefix and --store: where the queue is. */
export const QUEUE_OPTIONS: Options = { redis: { type: 'string' }, queue: { type: 'string' }, prefix: { type: 'string' }, store: { type: 'string' } };

export const QUEUE_HELP = `  --redis <url>         redis://host:port[/db] of the queue (default: env MIGE_REDIS_URL)
  --queue <name>        queue name (default mige): one queue per model
  --prefix <p>          prefix of the queue's Redis keys (default mige)
  --store <dir>         images travel as files in this folder, shared by every producer and worker
                        (default: inline in Redis as PNG bytes)`;

export function queueConfigFromArgs(v: Values): { redis: string; queue?: string; prefix?: string; store?: string } {
  const queue = stringOption(v, 'queue');
  const prefix = stringOption(v, 'prefix');
  const store = stringOption(v, 'store');
  return { redis: requiredOption(v, 'redis', 'MIGE_REDIS_URL'), ...(queue ? { queue } : {}), ...(prefix ? { prefix } : {}), ...(store ? { store } : {}) };
}
