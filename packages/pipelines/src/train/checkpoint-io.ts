import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MigeInputError, readSafetensors, syncDirectory, tf, writableFromTensors, writeSafetensors } from '@mige/core';

/**
 * Training checkpoints, written so that a crash at any moment leaves the previous checkpoint and
 * `latest.json` usable:
 *
 *   <dir>/step-00000120/{model,optimizer[,ema]}.safetensors + state.json
 *   <dir>/latest.json  = {"step": 120, "path": "step-00000120"}   (path relative to <dir>)
 *
 * Everything is first written (and fsynced) into `<dir>/.step-00000120.tmp-<pid>-<rand>/`, which
 * is then renamed into place; only after that is latest.json replaced (temp file + rename).
 */

export const LATEST_FILE = 'latest.json';
const FILES = { model: 'model.safetensors', optimizer: 'optimizer.safetensors', ema: 'ema.safetensors', state: 'state.json' } as const;
const STEP_DIR = /^step-(\d{8})$/;
const TEMP_DIR = /^\.step-\d{8}\.tmp-(\d+)-[0-9a-f]+$/;

export interface CheckpointContents<S = unknown> {
  /** Model weights by state-dict name. */
  model: Map<string, tf.Tensor>;
  /** Optimiser state (AdamW.stateDict()). */
  optimizer: Map<string, tf.Tensor>;
  /** EMA weights (Ema.stateDict()), when training keeps one. */
  ema?: Map<string, tf.Tensor>;
  /** The caller's JSON-serialisable state: step, RNG states, data position, … */
  state: S;
}

/** What `writeCheckpoint` takes: the contents and the step they belong to. */
export interface CheckpointToWrite<S = unknown> extends CheckpointContents<S> {
  /** The number of optimiser steps done; names the folder `step-XXXXXXXX`. */
  step: number;
}

export interface LoadedCheckpoint<S = unknown> extends CheckpointToWrite<S> {
  /** The step folder it was read from. */
  path: string;
}

export interface WriteCheckpointOptions {
  /** Keep only the newest this many step folders (≥ 1; default: keep all). */
  keepLast?: number;
  /** Replace an existing folder for the same step (default: refuse). */
  overwrite?: boolean;
  /** Called after each file lands in the temp folder (tests use it to simulate a crash). */
  onFileWritten?: (file: string) => void;
}

/** `step-00000120`. */
export function stepDirName(step: number): string {
  if (!Number.isInteger(step) || step < 0 || step > 99_999_999) {
    throw new MigeInputError(`step must be an integer in 0..99999999, got ${step}`, 'checkpoint');
  }
  return `step-${String(step).padStart(8, '0')}`;
}

/** Writes one checkpoint under `dir` and points latest.json at it; returns its step folder. */
export function writeCheckpoint(dir: string, contents: CheckpointToWrite, options: WriteCheckpointOptions = {}): string {
  const { step } = contents;
  const name = stepDirName(step);
  if (options.keepLast !== undefined && !(Number.isInteger(options.keepLast) && options.keepLast >= 1)) {
    throw new MigeInputError(`keepLast must be an integer ≥ 1, got ${options.keepLast}`, 'checkpoint');
  }
  const stateJson = serialiseState(contents.state);
  fs.mkdirSync(dir, { recursive: true });
  removeStaleTempDirs(dir);
  const final = path.join(dir, name);
  if (fs.existsSync(final) && !options.overwrite) {
    throw new MigeInputError(`a checkpoint for step ${step} already exists (pass overwrite to replace it)`, final);
  }
  const temp = path.join(dir, `.${name}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  fs.mkdirSync(temp);
  try {
    const files: [string, Map<string, tf.Tensor> | undefined][] = [
      [FILES.model, contents.model],
      [FILES.optimizer, contents.optimizer],
      [FILES.ema, contents.ema],
    ];
    for (const [file, tensors] of files) {
      if (!tensors) continue;
      writeSafetensors(path.join(temp, file), writableFromTensors(tensors, file), { format: 'mige-training-checkpoint', step: String(step) });
      options.onFileWritten?.(file);
    }
    writeFileSynced(path.join(temp, FILES.state), stateJson);
    options.onFileWritten?.(FILES.state);
    syncDirectory(temp);
    moveIntoPlace(temp, final);
  } catch (error) {
    fs.rmSync(temp, { recursive: true, force: true });
    throw error;
  }
  syncDirectory(dir);
  writeLatest(dir, { step, path: name });
  if (options.keepLast !== undefined) pruneCheckpoints(dir, options.keepLast);
  return final;
}

/**
 * Reads a checkpoint: given a run folder, the one latest.json names; given a step folder, that
 * one. Tensors are new tf tensors the caller owns.
 */
export function readCheckpoint<S = unknown>(dirOrStepDir: string): LoadedCheckpoint<S> {
  const stepDir = resolveCheckpointDir(dirOrStepDir);
  const match = STEP_DIR.exec(path.basename(stepDir));
  if (!match) throw new MigeInputError('a checkpoint folder must be named step-XXXXXXXX', stepDir);
  const emaFile = path.join(stepDir, FILES.ema);
  return {
    step: Number(match[1]),
    path: stepDir,
    model: readTensors(path.join(stepDir, FILES.model)),
    optimizer: readTensors(path.join(stepDir, FILES.optimizer)),
    ...(fs.existsSync(emaFile) ? { ema: readTensors(emaFile) } : {}),
    state: readJson(path.join(stepDir, FILES.state)) as S,
  };
}

/** The step folder a path names: `dir/latest.json`'s target, or the path itself if it is one. */
export function resolveCheckpointDir(dirOrStepDir: string): string {
  const latestFile = path.join(dirOrStepDir, LATEST_FILE);
  if (fs.existsSync(latestFile)) {
    const latest = readLatest(dirOrStepDir);
    if (!latest) throw new MigeInputError('missing', latestFile);
    const target = path.resolve(dirOrStepDir, latest.path);
    if (!fs.existsSync(target)) throw new MigeInputError(`names ${latest.path}, which does not exist`, latestFile);
    return target;
  }
  if (fs.existsSync(path.join(dirOrStepDir, FILES.model)) || STEP_DIR.test(path.basename(dirOrStepDir))) return dirOrStepDir;
  throw new MigeInputError(`missing (not a checkpoint run folder, nor a step-XXXXXXXX folder)`, latestFile);
}

/** latest.json's content, or null when the run folder has none yet. */
export function readLatest(dir: string): { step: number; path: string } | null {
  const file = path.join(dir, LATEST_FILE);
  if (!fs.existsSync(file)) return null;
  const value = readJson(file);
  if (typeof value !== 'object' || value === null) throw new MigeInputError('must hold an object {step, path}', file);
  const { step, path: rel } = value as { step?: unknown; path?: unknown };
  if (typeof step !== 'number' || !Number.isInteger(step) || step < 0) throw new MigeInputError(`step must be a non-negative integer, got ${JSON.stringify(step)}`, file);
  if (typeof rel !== 'string' || rel.length === 0) throw new MigeInputError(`path must be a non-empty string, got ${JSON.stringify(rel)}`, file);
  return { step, path: rel };
}

/** The step folders under `dir`, oldest first. */
export function listCheckpoints(dir: string): { step: number; path: string }[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => {
      const m = e.isDirectory() ? STEP_DIR.exec(e.name) : null;
      return m ? [{ step: Number(m[1]), path: path.join(dir, e.name) }] : [];
    })
    .sort((a, b) => a.step - b.step);
}

/** Removes all but the newest `keepLast` step folders, never the one latest.json names. */
export function pruneCheckpoints(dir: string, keepLast: number): string[] {
  const latest = readLatest(dir);
  const keepPath = latest ? path.resolve(dir, latest.path) : null;
  const all = listCheckpoints(dir);
  const removed: string[] = [];
  for (const c of all.slice(0, Math.max(0, all.length - keepLast))) {
    if (path.resolve(c.path) === keepPath) continue;
    fs.rmSync(c.path, { recursive: true, force: true });
    removed.push(c.path);
  }
  return removed;
}

function serialiseState(state: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(state, null, 2);
  } catch (error) {
    throw new MigeInputError(`state is not JSON-serialisable: ${(error as Error).message}`, FILES.state);
  }
  if (text === undefined) throw new MigeInputError('state is not JSON-serialisable (undefined or a function)', FILES.state);
  return `${text}\n`;
}

function readTensors(file: string): Map<string, tf.Tensor> {
  if (!fs.existsSync(file)) throw new MigeInputError('missing from the checkpoint', file);
  let data;
  try {
    data = readSafetensors(file);
  } catch (error) {
    if (error instanceof MigeInputError) throw error;
    throw new MigeInputError(`unreadable: ${(error as Error).message}`, file);
  }
  return new Map([...data].map(([k, t]) => [k, tf.tensor(t.data, t.shape, t.dtype)]));
}

function readJson(file: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new MigeInputError(code === 'ENOENT' ? 'missing from the checkpoint' : `unreadable: ${(error as Error).message}`, file);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new MigeInputError(`not valid JSON: ${(error as Error).message}`, file);
  }
}

function writeLatest(dir: string, latest: { step: number; path: string }): void {
  const target = path.join(dir, LATEST_FILE);
  const temp = path.join(dir, `.${LATEST_FILE}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    writeFileSynced(temp, `${JSON.stringify(latest)}\n`);
    fs.renameSync(temp, target);
  } catch (error) {
    fs.rmSync(temp, { force: true });
    throw error;
  }
  syncDirectory(dir);
}

/**
 * Renames the finished temp folder to `final`. An existing folder (overwrite) is first moved
 * aside and deleted afterwards, since a directory cannot be renamed over a non-empty one.
 */
function moveIntoPlace(temp: string, final: string): void {
  if (!fs.existsSync(final)) {
    fs.renameSync(temp, final);
    return;
  }
  const aside = `${temp}.old`;
  fs.renameSync(final, aside);
  fs.renameSync(temp, final);
  fs.rmSync(aside, { recursive: true, force: true });
}

/** Temp folders of writers that died mid-write (their pid is gone) are garbage. */
function removeStaleTempDirs(dir: string): void {
  for (const name of fs.readdirSync(dir)) {
    const m = TEMP_DIR.exec(name);
    if (m && !processAlive(Number(m[1]))) fs.rmSync(path.join(dir, name), { recursive: true, force: true });
  }
}

/** Whether a process (a checkpoint writer) is still running. */
export function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function writeFileSynced(file: string, text: string): void {
  const fd = fs.openSync(file, 'wx');
  try {
    fs.writeFileSync(fd, text);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

