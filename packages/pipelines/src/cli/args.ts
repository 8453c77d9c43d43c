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
    throw new UsageError(msg.replace(/^Unknown option/, 'unknown option'));
  }
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
