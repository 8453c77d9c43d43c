import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileSystemError, MigeInputError, writeTextFileAtomic } from '@mige/core';
import { LATEST_FILE, listCheckpoints, processAlive, readLatest, resolveCheckpointDir } from './checkpoint-io.js';
import { resolveTrainConfig, type TrainConfig } from './train-config.js';

/**
 * What a run folder must satisfy before training starts in it:
 * - it can be written (a read-only or forbidden folder fails now, naming why, not at the first
 *   checkpoint hours later, nor as "no such file or directory");
 * - a folder holding a run is continued with `resume`, never silently trained over;
 * - a resumed run uses the settings it was started with, since resuming promises the same
 *   result as a run that never stopped: a changed batch size, learning rate, model or dataset is
 *   refused unless `allowChanges` is set, and then each change is recorded in `RESUME_CHANGES_FILE`;
 * - metrics.jsonl holds no step past the checkpoint training continues from (a crash after
 *   step 120 with the last checkpoint at 100 leaves lines 101-120, which the resumed run logs again);
 * - no step folder lies past it either: a crash between moving a checkpoint into place and
 *   pointing latest.json at it leaves a whole folder that latest.json never named, which the
 *   resumed run writes again (and writeCheckpoint would refuse to overwrite).
 */

/** Settings that only decide when to log, checkpoint and prune: a resume may change them freely. */
const BOOKKEEPING: readonly (keyof TrainConfig)[] = ['checkpointEvery', 'keepLast', 'logEvery'];
/** Changes accepted with allowChanges, one JSON line per resume: {time, step, changes}. */
export const RESUME_CHANGES_FILE = 'resume-changes.jsonl';
export const METRICS_FILE = 'metrics.jsonl';

export interface RunFolderOptions {
  outDir: string;
  resume: boolean;
  /** Accept changed settings on resume (and record them). */
  allowChanges: boolean;
  config: TrainConfig;
  /** The model's config name, as state.json records it. */
  model: string;
  /** Items per task group of the dataset trained on (the task sampler's sizes). */
  datasetSizes: Readonly<Record<string, number>>;
}

/** One setting that differs between the checkpoint and this run. */
export interface ResumeChange {
  field: string;
  from: unknown;
  to: unknown;
}

/** What state.json holds that the policy reads (trainer.ts's TrainState). */
interface SavedState {
  step: number;
  config: Partial<TrainConfig>;
  model: string;
  sampler: { sizes: Record<string, number> };
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Every difference that changes what training computes; `steps` only matters for a cosine schedule. */
export function resumeChanges(saved: SavedState, options: Pick<RunFolderOptions, 'config' | 'model' | 'datasetSizes'>, where = 'state.json'): ResumeChange[] {
  const changes: ResumeChange[] = [];
  let before: TrainConfig;
  try {
    // Fields added since the checkpoint was written take their defaults, as the run that wrote it did.
    before = resolveTrainConfig(saved.config);
  } catch (error) {
    throw new MigeInputError(`the checkpoint's training config is invalid: ${(error as Error).message}`, where);
  }
  const now = options.config;
  for (const field of Object.keys(now) as (keyof TrainConfig)[]) {
    if (BOOKKEEPING.includes(field)) continue;
    if (field === 'steps' && before.lrSchedule !== 'cosine' && now.lrSchedule !== 'cosine') continue;
    if (!same(before[field], now[field])) changes.push({ field, from: before[field], to: now[field] });
  }
  if (saved.model !== options.model) changes.push({ field: 'model', from: saved.model, to: options.model });
  const sizes = saved.sampler?.sizes ?? {};
  const current = Object.fromEntries(Object.entries(options.datasetSizes).filter(([, n]) => n > 0));
  const stored = Object.fromEntries(Object.entries(sizes).filter(([, n]) => n > 0));
  if (!same(Object.entries(stored).sort(), Object.entries(current).sort())) changes.push({ field: 'dataset', from: stored, to: current });
  return changes;
}

function describeChange(c: ResumeChange): string {
  return `${c.field} ${JSON.stringify(c.from)} -> ${JSON.stringify(c.to)}`;
}

function readState(stepDir: string): SavedState {
  const file = path.join(stepDir, 'state.json');
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw fileSystemError(error, file, 'read');
  }
  try {
    const state = JSON.parse(text) as SavedState;
    if (typeof state !== 'object' || state === null || typeof state.config !== 'object' || state.config === null) throw new Error('no config');
    return state;
  } catch (error) {
    throw new MigeInputError(`not a training state (${(error as Error).message})`, file);
  }
}

/**
 * Creates the folder if needed and proves it writable with a probe file. Node's recursive mkdir
 * reports a read-only file system as ENOENT, so the first missing folder is made on its own to
 * get the real reason.
 */
export function ensureWritableFolder(dir: string): void {
  const missing: string[] = [];
  for (let at = path.resolve(dir); !fs.existsSync(at); at = path.dirname(at)) missing.unshift(at);
  for (const folder of missing) {
    try {
      fs.mkdirSync(folder);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw fileSystemError(error, folder, 'create the run folder');
    }
  }
  if (!fs.statSync(dir).isDirectory()) throw new MigeInputError('is not a folder: training needs a folder for its checkpoints', dir);
  const probe = path.join(dir, `.write-probe-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    fs.writeFileSync(probe, '');
  } catch (error) {
    throw fileSystemError(error, dir, 'write in the run folder');
  } finally {
    fs.rmSync(probe, { force: true });
  }
}

/** Drops the lines of a metrics file past `step` (and a torn last line), atomically. */
export function truncateMetrics(file: string, step: number): void {
  if (!fs.existsSync(file)) return;
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  const kept: string[] = [];
  for (const line of lines) {
    if (line.trim() === '') continue;
    let record: { step?: unknown };
    try {
      record = JSON.parse(line) as { step?: unknown };
    } catch {
      continue; // a line cut short by a crash
    }
    if (typeof record.step === 'number' && record.step <= step) kept.push(line);
  }
  if (kept.length === lines.filter((l) => l.trim() !== '').length) return;
  writeTextFileAtomic(file, kept.length ? `${kept.join('\n')}\n` : '');
}

/**
 * Checks and prepares `outDir` as the trainer is about to use it; returns the step the run
 * continues from (0 for a new run). Throws a one-line MigeInputError for any refusal.
 */
export function prepareRunFolder(options: RunFolderOptions): number {
  const { outDir } = options;
  ensureWritableFolder(outDir);
  const latest = readLatest(outDir);
  if (latest && !options.resume) {
    throw new MigeInputError(`holds a run (its ${LATEST_FILE} is at step ${latest.step}): pass --resume to continue it, or another --out for a new run`, outDir);
  }
  let step = 0;
  if (latest) {
    // Only a folder of this run: latest.json must not send the resume elsewhere on the disk.
    if (!/^step-\d{8}$/.test(latest.path)) throw new MigeInputError(`${LATEST_FILE} names ${JSON.stringify(latest.path)}, not a step-XXXXXXXX folder of this run`, outDir);
    const stepDir = resolveCheckpointDir(outDir);
    const state = readState(stepDir);
    step = state.step;
    const changes = resumeChanges(state, options, path.join(stepDir, 'state.json'));
    if (changes.length > 0 && !options.allowChanges) {
      throw new MigeInputError(
        `resuming at step ${step} with settings that differ from the checkpoint's (${changes.map(describeChange).join('; ')}): the result would not be the run's; restore them, or pass --allow-changes to continue anyway (the changes are recorded in ${RESUME_CHANGES_FILE})`,
        outDir,
      );
    }
    if (changes.length > 0) recordChanges(outDir, step, changes);
  }
  removeLeftovers(outDir, step);
  truncateMetrics(path.join(outDir, METRICS_FILE), step);
  return step;
}

/** Step folders past `step` and latest.json temp files, both left by a writer that was killed. */
function removeLeftovers(outDir: string, step: number): void {
  for (const checkpoint of listCheckpoints(outDir)) if (checkpoint.step > step) fs.rmSync(checkpoint.path, { recursive: true, force: true });
  for (const name of fs.readdirSync(outDir)) {
    const writer = /^\.latest\.json\.tmp-(\d+)-/.exec(name);
    if (writer && !processAlive(Number(writer[1]))) fs.rmSync(path.join(outDir, name), { force: true });
  }
}

function recordChanges(outDir: string, step: number, changes: ResumeChange[]): void {
  const file = path.join(outDir, RESUME_CHANGES_FILE);
  const before = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  writeTextFileAtomic(file, `${before}${JSON.stringify({ time: new Date().toISOString(), step, changes })}\n`);
}
