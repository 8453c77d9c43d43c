import { mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChildReport, FuzzCase, FuzzTarget } from './case.js';
import { DEFAULT_WATCH, runWatched, type WatchOptions, type WatchResult } from './watchdog.js';

const CHILD = fileURLToPath(new URL('../dist/child.js', import.meta.url));
/** The `mige` command, built by the pipelines package (MIGE_FUZZ_CLI: another build's, to compare). */
export const MIGE_CLI = process.env.MIGE_FUZZ_CLI ?? fileURLToPath(new URL('../../pipelines/dist/cli.js', import.meta.url));

export interface CaseResult {
  id: string;
  cls: string;
  /** Bytes of the files the case wrote. */
  inputBytes: number;
  outcome: 'accepted' | 'refused' | 'crashed' | 'killed';
  /** The error message (refused), the crash (crashed) or what the loader returned (accepted). */
  message: string;
  cpuMs: number;
  wallMs: number;
  peakRssBytes: number;
  /** Empty when the case passed; else every way it failed. */
  problems: string[];
}

function sizeOf(path: string): number {
  const s = statSync(path, { throwIfNoEntry: false });
  if (!s) return 0;
  if (!s.isDirectory()) return s.size;
  return readdirSync(path).reduce((n, name) => n + sizeOf(join(path, name)), 0);
}

function lastJsonLine(stdout: string): ChildReport | undefined {
  const lines = stdout.trim().split('\n').filter((l) => l.startsWith('{') && !l.startsWith('{"ready"'));
  const last = lines[lines.length - 1];
  return last ? (JSON.parse(last) as ChildReport) : undefined;
}

/** A stack trace in a message: V8's "    at f (file:line:col)" frames. */
const STACK_FRAME = /\n\s+at .+[:(]/;

function interpretLib(watch: WatchResult): Pick<CaseResult, 'outcome' | 'message'> {
  const report = lastJsonLine(watch.stdout);
  if (!report) return { outcome: 'crashed', message: `no report (exit ${watch.code ?? watch.signal}): ${watch.stderr.slice(-2000)}` };
  if (report.outcome === 'accepted') return { outcome: 'accepted', message: JSON.stringify(report.detail).slice(0, 300) };
  if (report.outcome === 'refused') return { outcome: 'refused', message: report.message };
  return { outcome: 'crashed', message: `${report.name}: ${report.message}\n${report.stack}` };
}

/**
 * The `mige` command as a user sees it: exit 0 is accepted; a refusal is exit 1 or 2 with exactly
 * one line on stderr and no "internal error"; anything else (a stack trace, a signal) crashed.
 */
function interpretCli(watch: WatchResult): Pick<CaseResult, 'outcome' | 'message'> {
  const lines = watch.stderr.split('\n').filter((l) => l.trim() !== '');
  if (watch.code === 0) return { outcome: 'accepted', message: watch.stdout.trim().slice(0, 300) };
  if ((watch.code === 1 || watch.code === 2) && lines.length === 1 && !/internal error/.test(lines[0] as string)) {
    return { outcome: 'refused', message: lines[0] as string };
  }
  return { outcome: 'crashed', message: `exit ${watch.code ?? watch.signal}, stderr:\n${watch.stderr.slice(0, 3000)}` };
}

export function spawnTarget(target: FuzzTarget, watch: Partial<WatchOptions> = {}): Promise<WatchResult> {
  const options = { ...DEFAULT_WATCH, ...watch };
  if (target.kind === 'cli') return runWatched(process.execPath, [MIGE_CLI, ...target.argv], { ...options, waitReady: false });
  return runWatched(process.execPath, [CHILD, JSON.stringify(target)], { ...options, waitReady: true, cwd: fileURLToPath(new URL('..', import.meta.url)) });
}

/** Makes the case's input under `dir`, runs it in a watched child and judges the outcome. */
export async function runCase(c: FuzzCase, dir: string, watch: Partial<WatchOptions> = {}): Promise<CaseResult> {
  mkdirSync(dir, { recursive: true });
  const target = await c.make(dir);
  const options = { ...DEFAULT_WATCH, ...watch };
  const result = await spawnTarget(target, options);
  const judged = result.killed
    ? { outcome: 'killed' as const, message: `killed by the watchdog (${result.killed}); stderr: ${result.stderr.slice(-500)}` }
    : target.kind === 'cli'
      ? interpretCli(result)
      : interpretLib(result);
  const problems: string[] = [];
  if (judged.outcome === 'killed' || judged.outcome === 'crashed') problems.push(`${judged.outcome}: ${judged.message}`);
  if (result.peakRssBytes > options.maxRssBytes) problems.push(`peak RSS ${(result.peakRssBytes / 2 ** 20).toFixed(0)} MiB is over the ${(options.maxRssBytes / 2 ** 20).toFixed(0)} MiB budget`);
  if (result.cpuMs > options.cpuBudgetMs) problems.push(`${result.cpuMs.toFixed(0)} ms of CPU is over the ${options.cpuBudgetMs} ms budget`);
  if (judged.outcome === 'refused') {
    if (STACK_FRAME.test(judged.message)) problems.push(`the refusal carries a stack trace: ${judged.message}`);
    if ('refused' in c.expect && !c.expect.refused.test(judged.message)) problems.push(`refused with "${judged.message}", expected ${c.expect.refused}`);
    if ('accepted' in c.expect) problems.push(`refused with "${judged.message}", expected to load`);
  }
  if (judged.outcome === 'accepted' && 'refused' in c.expect) problems.push(`accepted (${judged.message}), expected a refusal matching ${c.expect.refused}`);
  return {
    id: c.id,
    cls: c.cls,
    inputBytes: sizeOf(dir),
    outcome: judged.outcome,
    message: judged.message,
    cpuMs: result.cpuMs,
    wallMs: result.wallMs,
    peakRssBytes: result.peakRssBytes,
    problems,
  };
}

/** Runs `cases` `concurrency` at a time, in order of their index; `onResult` sees each as it ends. */
export async function runCases(
  cases: readonly FuzzCase[],
  dirOf: (c: FuzzCase, i: number) => string,
  options: { concurrency?: number; watch?: Partial<WatchOptions>; onResult?: (r: CaseResult) => void } = {},
): Promise<CaseResult[]> {
  const results: CaseResult[] = new Array(cases.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < cases.length) {
      const i = next++;
      const c = cases[i] as FuzzCase;
      const r = await runCase(c, dirOf(c, i), options.watch);
      results[i] = r;
      options.onResult?.(r);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 2 }, worker));
  return results;
}
