import * as fs from 'node:fs';
import * as path from 'node:path';
import { MigeInputError } from '@mige/core';

/**
 * Training progress output. On a terminal: one progress line redrawn in place,
 *   step 120/1000 [==>                 ] 12% loss 0.1234 lr 1.00e-4 2.31 step/s ETA 6m20s
 * elsewhere (a pipe, a log file, or `mode: 'jsonl'`): one JSON object per log call,
 *   {"step":120,"total":1000,"loss":0.1234,"lr":0.0001,"steps_per_s":2.31,"eta_s":380,"time":"…"}
 * Optionally every record is also appended to a JSONL metrics file (e.g. `metrics.jsonl`).
 * Non-finite values (a NaN loss) appear as null in JSON.
 */

/** The part of a Node stream the logger uses (process.stdout / stderr fit). */
export interface LogStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
}

export interface TrainLoggerOptions {
  stream: LogStream;
  /** The run's last step, for the bar, the percentage and the ETA. */
  total: number;
  /** A JSONL file every record is appended to (its folder is created). */
  metricsFile?: string;
  /** `auto` (default): bar on a TTY, JSON lines otherwise. */
  mode?: 'auto' | 'bar' | 'jsonl';
  /** The step training starts from (a resumed run), so the speed counts only this run's steps. */
  startStep?: number;
  /** Characters inside the bar's brackets (default 20). */
  barWidth?: number;
  /** Clock in ms (tests inject one; default Date.now). */
  now?: () => number;
}

export interface TrainLogger {
  /** Reports `step` (1-based steps done) with values such as loss, lr, grad_norm. */
  log(step: number, values: Record<string, number>): void;
  /** Ends the bar's line and closes the metrics file. */
  close(): void;
}

export interface TrainLogRecord {
  step: number;
  total: number;
  [value: string]: number | string | null;
  /** Steps per second since the logger started (null before any time has passed). */
  steps_per_s: number | null;
  /** Seconds left at that speed (null when unknown). */
  eta_s: number | null;
  time: string;
}

export function createTrainLogger(options: TrainLoggerOptions): TrainLogger {
  const { stream, total } = options;
  if (!(Number.isInteger(total) && total > 0)) throw new MigeInputError(`total must be a positive integer, got ${total}`, 'createTrainLogger');
  const mode = options.mode ?? 'auto';
  const bar = mode === 'bar' || (mode === 'auto' && stream.isTTY === true);
  const now = options.now ?? Date.now;
  const startStep = options.startStep ?? 0;
  const startTime = now();
  const barWidth = options.barWidth ?? 20;
  let metricsFd: number | null = null;
  if (options.metricsFile) {
    fs.mkdirSync(path.dirname(path.resolve(options.metricsFile)), { recursive: true });
    metricsFd = fs.openSync(options.metricsFile, 'a');
  }
  let drewBar = false;
  let closed = false;

  return {
    log(step, values) {
      if (closed) throw new MigeInputError('log() after close()', 'TrainLogger');
      const elapsed = (now() - startTime) / 1000;
      const rate = elapsed > 0 ? (step - startStep) / elapsed : null;
      const eta = rate && rate > 0 ? Math.max(0, total - step) / rate : null;
      const record: TrainLogRecord = {
        step,
        total,
        ...Object.fromEntries(Object.entries(values).map(([k, v]) => [k, Number.isFinite(v) ? v : null])),
        steps_per_s: rate,
        eta_s: eta === null ? null : Math.round(eta),
        time: new Date(now()).toISOString(),
      };
      const line = JSON.stringify(record);
      if (metricsFd !== null) fs.writeSync(metricsFd, `${line}\n`);
      if (bar) {
        stream.write(`\r${formatBar(step, total, values, rate, eta, barWidth)}\x1b[K`);
        drewBar = true;
      } else {
        stream.write(`${line}\n`);
      }
    },
    close() {
      if (closed) return;
      closed = true;
      if (drewBar) stream.write('\n');
      if (metricsFd !== null) fs.closeSync(metricsFd);
    },
  };
}

/** `step 120/1000 [==>      ] 12% loss 0.1234 2.31 step/s ETA 6m20s`. */
export function formatBar(
  step: number,
  total: number,
  values: Record<string, number>,
  rate: number | null,
  eta: number | null,
  width = 20,
): string {
  const frac = Math.min(1, Math.max(0, step / total));
  const filled = Math.floor(frac * width);
  const inner = filled >= width ? '='.repeat(width) : `${'='.repeat(filled)}>${' '.repeat(width - filled - 1)}`;
  const parts = [`step ${step}/${total}`, `[${inner}]`, `${Math.floor(frac * 100)}%`];
  for (const [k, v] of Object.entries(values)) parts.push(`${k} ${formatValue(v)}`);
  if (rate !== null) parts.push(`${rate.toFixed(2)} step/s`);
  if (eta !== null) parts.push(`ETA ${formatDuration(eta)}`);
  return parts.join(' ');
}

/** 4 decimals for ordinary magnitudes, scientific for tiny or huge ones (learning rates). */
function formatValue(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e5) ? v.toExponential(2) : v.toFixed(4);
}

/** 45s, 6m20s, 2h05m. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
