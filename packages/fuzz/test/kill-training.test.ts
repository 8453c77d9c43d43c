import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, watch, type FSWatcher } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend, tf } from '@mige/core';
import { readCheckpoint, readLatest } from '@mige/pipelines/internal';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIGE_CLI } from '../src/run-case.js';

/**
 * `kill -9` during training, at the worst moments: between checkpoints, as a checkpoint folder
 * is created, halfway through its files, and while latest.json is swapped. After every kill each
 * checkpoint must load and latest.json must name a whole one; the run resumed after each kill
 * must end byte-identical to a run never killed, and its metrics.jsonl must count 1, 2, … once.
 */

const STEPS = 12;
const ARGS = ['--model', 'mige-tiny', '--world', '8', '--steps', String(STEPS), '--batch-size', '2', '--checkpoint-every', '2', '--keep-last', '20', '--log-every', '1', '--log', 'jsonl'];

type KillPoint =
  | { at: 'step'; step: number }
  | { at: 'checkpoint-folder' }
  | { at: 'checkpoint-file'; file: string }
  | { at: 'latest-swap' };

interface Outcome {
  killed: boolean;
  /** The moment was caught while the write was under way (a temp folder or file was still there). */
  midWrite: boolean;
  code: number | null;
  stderr: string;
}

/** Runs `mige train` into `out` and SIGKILLs it at `point` (or lets it finish: undefined). */
function trainUntil(out: string, point: KillPoint | undefined, resume: boolean): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MIGE_CLI, 'train', ...ARGS, '--out', out, ...(resume ? ['--resume'] : [])], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let killed = false;
    let midWrite = false;
    const watchers: FSWatcher[] = [];
    const stop = (): void => {
      if (killed) return;
      killed = true;
      child.kill('SIGSTOP');
    };
    const kill = (): void => {
      child.kill('SIGKILL');
      for (const w of watchers) w.close();
    };
    child.stderr.setEncoding('utf8').on('data', (s: string) => {
      stderr += s;
      if (point?.at === 'step' && !killed && new RegExp(`"step":${point.step},`).test(stderr)) {
        stop();
        kill();
      }
    });
    child.stdout.resume();
    if (point && point.at !== 'step') {
      watchers.push(
        watch(out, (_event, name) => {
          if (killed || !name) return;
          const temp = join(out, name);
          if (point.at === 'latest-swap' && name.startsWith('.latest.json.tmp-')) {
            stop();
            midWrite = existsSync(temp);
            kill();
          } else if (name.startsWith('.step-') && name.includes('.tmp-') && !name.endsWith('.old')) {
            if (point.at === 'checkpoint-folder') {
              stop();
              midWrite = existsSync(temp);
              kill();
            } else if (point.at === 'checkpoint-file' && existsSync(temp) && watchers.length === 1) {
              // Pause, watch inside the new folder, go on until the chosen file appears.
              child.kill('SIGSTOP');
              watchers.push(
                watch(temp, (_e, inner) => {
                  if (!killed && inner === point.file) {
                    stop();
                    midWrite = existsSync(temp);
                    kill();
                  }
                }),
              );
              child.kill('SIGCONT');
            }
          }
        }),
      );
    }
    child.on('error', reject);
    child.on('close', (code) => {
      for (const w of watchers) w.close();
      resolve({ killed, midWrite, code, stderr });
    });
  });
}

const metricSteps = (dir: string): number[] =>
  readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => (JSON.parse(l) as { step: number }).step);

const losses = (dir: string): number[] =>
  readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => (JSON.parse(l) as { loss: number }).loss);

/** Every step folder loads whole, and latest.json names one of them. */
function checkEveryCheckpoint(out: string): number[] {
  const steps = readdirSync(out).filter((n) => /^step-\d{8}$/.test(n));
  for (const name of steps) {
    const ck = readCheckpoint(join(out, name));
    expect(ck.model.size).toBeGreaterThan(10);
    expect(ck.optimizer.size).toBeGreaterThan(10);
    tf.dispose([...ck.model.values(), ...ck.optimizer.values()]);
  }
  const latest = readLatest(out);
  if (latest) expect(steps).toContain(latest.path);
  return steps.map((n) => Number(n.slice(5)));
}

describe('kill -9 during training', () => {
  const base = mkdtempSync(join(tmpdir(), 'mige-kill-'));
  beforeAll(() => initBackend({ backend: 'cpu', log: null }));
  afterAll(() => rmSync(base, { recursive: true, force: true }));

  it('every checkpoint survives, the resumed run is byte-identical and its metrics count each step once', async () => {
    const straight = join(base, 'straight');
    const done = await trainUntil(straight, undefined, false);
    expect(done.code, done.stderr).toBe(0);

    const out = join(base, 'killed');
    mkdirSync(out);
    const plan: KillPoint[] = [
      { at: 'step', step: 3 },
      { at: 'checkpoint-folder' },
      { at: 'checkpoint-file', file: 'optimizer.safetensors' },
      { at: 'latest-swap' },
      { at: 'checkpoint-file', file: 'state.json' },
    ];
    const outcomes: Outcome[] = [];
    for (const [i, point] of plan.entries()) {
      const outcome = await trainUntil(out, point, i > 0);
      outcomes.push(outcome);
      expect(outcome.killed, `kill ${i} (${JSON.stringify(point)}) never happened: exit ${outcome.code}: ${outcome.stderr.slice(-1500)}`).toBe(true);
      checkEveryCheckpoint(out);
    }
    // The checkpoint moments were caught mid-write: a temp folder or file still in place.
    expect(outcomes.slice(1).filter((o) => o.midWrite).length).toBeGreaterThanOrEqual(3);

    const final = await trainUntil(out, undefined, true);
    expect(final.code, final.stderr).toBe(0);
    expect(checkEveryCheckpoint(out)).toEqual(checkEveryCheckpoint(straight));
    expect(metricSteps(out)).toEqual(Array.from({ length: STEPS }, (_, i) => i + 1));
    expect(losses(out)).toEqual(losses(straight));
    const last = `step-${String(STEPS).padStart(8, '0')}`;
    for (const file of ['model.safetensors', 'optimizer.safetensors', 'state.json']) {
      expect(readFileSync(join(out, last, file)).equals(readFileSync(join(straight, last, file))), file).toBe(true);
    }
    expect(readFileSync(join(out, 'model', 'model.safetensors')).equals(readFileSync(join(straight, 'model', 'model.safetensors')))).toBe(true);
  });
});
