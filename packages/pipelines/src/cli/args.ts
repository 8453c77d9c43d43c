import { parseArgs } from 'node:util';
import { MigeInputError } from '@mige/core';

/** A wrong command line (unknown option, missing value): exit code 2 with a pointer to --help. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export type OptionSpec = Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }>;
export type ParsedValues = Record<string, string | boolean | string[] | boolean[] | undefined>;

/** node:util parseArgs in strict mode, with its errors turned into one-line usage errors. */
export function parse(argv: readonly string[], options: OptionSpec): ParsedValues {
  try {
    const { values, positionals } = parseArgs({ args: [...argv], options: { ...options, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: true });
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    return values as ParsedValues;
  } catch (e) {
    if (e instanceof UsageError) throw e;
    const msg = e instanceof Error ? e.message.split('\n')[0] ?? e.message : String(e);
    const unknown = /^Unknown option '(-{1,2}[^']*)'/.exec(msg);
    if (unknown) {
      const given = unknown[1] as string;
      const near = nearest(given.replace(/^-+/, '').split('=')[0] as string, [...Object.keys(options), 'help']);
      throw new UsageError(`unknown option '${given}'` + (near ? ` (did you mean --${near}?)` : ''));
    }
    throw new UsageError(msg);
  }
}

/** The known name closest to `name` by edit distance, if it is close enough to be a typo. */
export function nearest(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const k of known) {
    const d = editDistance(name, k);
    if (d < bestDistance) [best, bestDistance] = [k, d];
  }
  return bestDistance <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

/** Levenshtein distance (insertions, deletions, substitutions; each costs 1). */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min((prev[j] as number) + 1, (row[j - 1] as number) + 1, (prev[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length] as number;
}

export function str(v: ParsedValues, name: string): string | undefined {
  const x = v[name];
  return typeof x === 'string' ? x : undefined;
}

export function required(v: ParsedValues, name: string): string {
  const x = str(v, name);
  if (x === undefined || x === '') throw new UsageError(`--${name} is required`);
  return x;
}

export function list(v: ParsedValues, name: string): string[] {
  const x = v[name];
  return Array.isArray(x) ? x.filter((s): s is string => typeof s === 'string') : typeof x === 'string' ? [x] : [];
}

export function flag(v: ParsedValues, name: string): boolean {
  return v[name] === true;
}

/** A number option: undefined when absent; a MigeInputError naming the option when it is not a number in range. */
export function num(v: ParsedValues, name: string, opts: { integer?: boolean; min?: number; max?: number } = {}): number | undefined {
  const s = str(v, name);
  if (s === undefined) return undefined;
  const n = Number(s);
  const kind = opts.integer ? 'an integer' : 'a number';
  if (s.trim() === '' || !Number.isFinite(n) || (opts.integer && !Number.isInteger(n))) throw new MigeInputError(`must be ${kind}, got "${s}"`, `--${name}`);
  if (opts.min !== undefined && n < opts.min) throw new MigeInputError(`must be >= ${opts.min}, got ${n}`, `--${name}`);
  if (opts.max !== undefined && n > opts.max) throw new MigeInputError(`must be <= ${opts.max}, got ${n}`, `--${name}`);
  return n;
}

export function choice<T extends string>(v: ParsedValues, name: string, allowed: readonly T[]): T | undefined {
  const s = str(v, name);
  if (s === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(s)) throw new MigeInputError(`must be one of ${allowed.join(', ')}, got "${s}"`, `--${name}`);
  return s as T;
}
