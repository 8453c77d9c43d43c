import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

/**
 * Runs a command as a watched child process: it is killed (SIGKILL, its whole process group)
 * when its resident memory passes `maxRssBytes`, when it spends more than `cpuBudgetMs` of CPU
 * after its budget starts, or when it outlives `wallLimitMs`. The budget starts at the child's
 * `{"ready":true}` line when `waitReady` is set (imports are not the case's cost), else at spawn.
 * CPU time, not wall time, is the time budget: it does not grow when the machine is busy with
 * other tests, so the bound is the case's own work. Wall time only catches a child that blocks.
 */
export interface WatchOptions {
  cpuBudgetMs: number;
  maxRssBytes: number;
  /** A child still running this long after spawn is killed as hung. */
  wallLimitMs: number;
  waitReady: boolean;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

export interface WatchResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Why the watchdog killed it, if it did. */
  killed: 'rss' | 'cpu' | 'wall' | undefined;
  /** Highest resident set seen: the child's own getrusage peak when it exited normally, else /proc's VmHWM. */
  peakRssBytes: number;
  /** CPU (user + system) spent after the budget started. */
  cpuMs: number;
  /** Wall time after the budget started. */
  wallMs: number;
}

export const DEFAULT_WATCH: Readonly<Omit<WatchOptions, 'waitReady'>> = Object.freeze({
  cpuBudgetMs: 2000,
  maxRssBytes: 1024 ** 3,
  wallLimitMs: 60_000,
});

/** Preloaded into every child: writes its peak RSS to fd 3 as it exits. */
const RSS_REPORTER = new URL('./rss-reporter.mjs', import.meta.url).href;
const TICKS_PER_SECOND = 100;

function procCpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14 and 15 of stat (utime, stime), counted from field 3 after the command name.
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

function procPeakRss(pid: number): { rss: number; hwm: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
    return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
  } catch {
    return undefined;
  }
}

export function runWatched(command: string, args: readonly string[], options: WatchOptions): Promise<WatchResult> {
  return new Promise((resolve, reject) => {
    const nodeOptions = [process.env.NODE_OPTIONS, `--import ${RSS_REPORTER}`].filter(Boolean).join(' ');
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: { ...(options.env ?? process.env), NODE_OPTIONS: nodeOptions, MIGE_FUZZ_REPORT_FD: '3' },
      stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
      detached: true,
    });
    const pid = child.pid;
    if (pid === undefined) return reject(new Error(`cannot spawn ${command}`));
    let stdout = '';
    let stderr = '';
    let reported = '';
    let killed: WatchResult['killed'];
    let peak = 0;
    const spawnedAt = performance.now();
    let budgetStart: { wall: number; cpu: number } | undefined = options.waitReady ? undefined : { wall: spawnedAt, cpu: 0 };
    let lastCpu = 0;
    const kill = (why: NonNullable<WatchResult['killed']>): void => {
      if (killed) return;
      killed = why;
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    child.stdout?.setEncoding('utf8').on('data', (s: string) => {
      stdout += s;
      if (!budgetStart && stdout.includes('{"ready":true}')) budgetStart = { wall: performance.now(), cpu: procCpuMs(pid) ?? lastCpu };
    });
    child.stderr?.setEncoding('utf8').on('data', (s: string) => {
      if (stderr.length < 1 << 20) stderr += s;
    });
    (child.stdio[3] as NodeJS.ReadableStream).setEncoding('utf8');
    (child.stdio[3] as NodeJS.ReadableStream).on('data', (s: string) => (reported += s));
    const poll = setInterval(() => {
      const mem = procPeakRss(pid);
      if (mem) {
        peak = Math.max(peak, mem.hwm, mem.rss);
        if (mem.rss > options.maxRssBytes) kill('rss');
      }
      const cpu = procCpuMs(pid);
      if (cpu !== undefined) lastCpu = cpu;
      if (budgetStart && cpu !== undefined && cpu - budgetStart.cpu > options.cpuBudgetMs) kill('cpu');
      if (performance.now() - spawnedAt > options.wallLimitMs) kill('wall');
    }, 10);
    child.on('error', (e) => {
      clearInterval(poll);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearInterval(poll);
      const own = /"maxRssKb":(\d+)/.exec(reported);
      if (own) peak = Math.max(peak, Number(own[1]) * 1024);
      const cpuEnd = /"cpuMs":([\d.]+)/.exec(reported);
      const start = budgetStart ?? { wall: performance.now(), cpu: 0 };
      const totalCpu = cpuEnd ? Number(cpuEnd[1]) : lastCpu;
      resolve({
        code,
        signal,
        stdout,
        stderr,
        killed,
        peakRssBytes: peak,
        cpuMs: Math.max(0, totalCpu - start.cpu),
        wallMs: performance.now() - start.wall,
      });
    });
  });
}
