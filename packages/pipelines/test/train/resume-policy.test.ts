import { appendFileSync, cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MigeInputError } from '@mige/core';
import { useBackend } from '@mige/core/testing';
import { generateExample, type WorldExample } from '@mige/data';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MIGE_TINY, MigeModel } from '../../src/model/index.js';
import { datasetFromWorld, resolveTrainConfig, train, type TrainConfig } from '../../src/train/index.js';
import { ensureWritableFolder, resumeChanges, truncateMetrics } from '../../src/train/resume-policy.js';

const SIZES = { imageSize: MIGE_TINY.imageSize, vitSize: MIGE_TINY.encoder.vision.imgSize };
const FAST: Partial<TrainConfig> = { batchSize: 2, lr: 1e-3, warmupSteps: 0, logEvery: 1, checkpointEvery: 2 };
const quiet = { write: () => true, isTTY: false } as unknown as NodeJS.WritableStream;

function world(): WorldExample[] {
  return (['subject', 'recolor', 'compose_add', 'compose_replace'] as const).map((task, i) => generateExample(3, i, { task, size: 32 }));
}

const metricSteps = (dir: string): number[] =>
  readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { step: number }).step);

describe('resume policy: what a resumed run may change', () => {
  const saved = (config: Partial<TrainConfig>) => ({ step: 4, config: resolveTrainConfig(config), model: 'mige-tiny', sampler: { sizes: { subject: 2, edit: 2, add: 0 } } });
  const now = (config: Partial<TrainConfig>, sizes: Record<string, number> = { subject: 2, edit: 2, replace: 0 }) => ({ config: resolveTrainConfig(config), model: 'mige-tiny', datasetSizes: sizes });

  it('nothing, when the settings are the same (empty task groups aside)', () => {
    expect(resumeChanges(saved(FAST), now(FAST))).toEqual([]);
  });

  it('the bookkeeping freely: when to log, checkpoint and prune', () => {
    expect(resumeChanges(saved(FAST), now({ ...FAST, logEvery: 7, checkpointEvery: 9, keepLast: 1 }))).toEqual([]);
  });

  it('steps only under a constant schedule (a cosine one spans them)', () => {
    expect(resumeChanges(saved({ ...FAST, steps: 4 }), now({ ...FAST, steps: 8 }))).toEqual([]);
    expect(resumeChanges(saved({ ...FAST, steps: 4, lrSchedule: 'cosine' }), now({ ...FAST, steps: 8, lrSchedule: 'cosine' }))).toEqual([{ field: 'steps', from: 4, to: 8 }]);
  });

  it('names every change of what training computes, and of the model and the data', () => {
    const changes = resumeChanges(saved(FAST), { ...now({ ...FAST, batchSize: 4, lr: 2e-3, taskRatios: { subject: 1, edit: 1, add: 0, replace: 0 } }, { subject: 3, edit: 2 }), model: 'mige-world' });
    expect(changes).toEqual([
      { field: 'batchSize', from: 2, to: 4 },
      { field: 'lr', from: 1e-3, to: 2e-3 },
      { field: 'taskRatios', from: { subject: 1, edit: 1, add: 0.5, replace: 0.5 }, to: { subject: 1, edit: 1, add: 0, replace: 0 } },
      { field: 'model', from: 'mige-tiny', to: 'mige-world' },
      { field: 'dataset', from: { subject: 2, edit: 2 }, to: { subject: 3, edit: 2 } },
    ]);
  });
});

describe('resume policy in training', () => {
  const dirs: string[] = [];
  const tmp = () => {
    const d = mkdtempSync(join(tmpdir(), 'mige-resume-'));
    dirs.push(d);
    return d;
  };
  beforeAll(() => useBackend('wasm'));
  afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

  const run = async (out: string, config: Partial<TrainConfig>, extra: { resume?: boolean; allowChanges?: boolean } = {}) => {
    const model = MigeModel.create(MIGE_TINY, { seed: 1 });
    try {
      return await train({ model, dataset: datasetFromWorld(world(), SIZES), outDir: out, config: { ...FAST, ...config }, log: quiet, ...extra });
    } finally {
      model.dispose();
    }
  };

  it('refuses a changed batch size and learning rate, naming both, before training a step', async () => {
    const out = tmp();
    await run(out, { steps: 2 });
    const error = await run(out, { steps: 4, batchSize: 1, lr: 5e-4 }, { resume: true }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MigeInputError);
    expect((error as Error).message).toBe(
      `${out}: resuming at step 2 with settings that differ from the checkpoint's (batchSize 2 -> 1; lr 0.001 -> 0.0005): the result would not be the run's; restore them, or pass --allow-changes to continue anyway (the changes are recorded in resume-changes.jsonl)`,
    );
    expect(metricSteps(out)).toEqual([1, 2]);
  });

  it('with allowChanges it continues and records the changes in the run folder', async () => {
    const out = tmp();
    await run(out, { steps: 2 });
    const result = await run(out, { steps: 3, lr: 5e-4 }, { resume: true, allowChanges: true });
    expect(result.step).toBe(3);
    const records = readFileSync(join(out, 'resume-changes.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { step: number; changes: unknown[] });
    expect(records.map((r) => [r.step, r.changes])).toEqual([[2, [{ field: 'lr', from: 1e-3, to: 5e-4 }]]]);
  });

  it('trims metrics.jsonl to the checkpoint it resumes from (and a torn last line), so steps stay monotonic', async () => {
    const out = tmp();
    await run(out, { steps: 2 });
    // What a crash after step 3 (the next checkpoint at 4) leaves: step 3 logged, half of step 4.
    appendFileSync(join(out, 'metrics.jsonl'), '{"step":3,"total":4,"loss":0.5}\n{"step":4,"tot');
    await run(out, { steps: 4 }, { resume: true });
    expect(metricSteps(out)).toEqual([1, 2, 3, 4]);
  });

  it('replaces a checkpoint folder latest.json never named (a kill between its rename and the latest.json swap)', async () => {
    const out = tmp();
    await run(out, { steps: 2 });
    cpSync(join(out, 'step-00000002'), join(out, 'step-00000004'), { recursive: true });
    writeFileSync(join(out, '.latest.json.tmp-999999999-abcd'), '{"step":4,');
    const result = await run(out, { steps: 4 }, { resume: true });
    expect(result.step).toBe(4);
    expect(readdirSync(out).filter((n) => n.startsWith('.latest'))).toEqual([]);
    expect((JSON.parse(readFileSync(join(out, 'step-00000004', 'state.json'), 'utf8')) as { step: number }).step).toBe(4);
  });

  it('refuses to start a new run over one without resume', async () => {
    const out = tmp();
    await run(out, { steps: 2 });
    await expect(run(out, { steps: 2 })).rejects.toThrow(`${out}: holds a run (its latest.json is at step 2): pass --resume to continue it, or another --out for a new run`);
  });

  it('a new run clears a metrics file left without any checkpoint', async () => {
    const out = tmp();
    writeFileSync(join(out, 'metrics.jsonl'), '{"step":1}\n{"step":2}\n');
    await run(out, { steps: 1 });
    expect(metricSteps(out)).toEqual([1]);
  });

  it('an out path below a file fails with the reason, not "no such file or directory"', () => {
    const file = join(tmp(), 'a-file');
    writeFileSync(file, '');
    expect(() => ensureWritableFolder(join(file, 'run'))).toThrow(`${join(file, 'run')}: cannot create the run folder: a part of the path is not a folder`);
  });

  it('truncateMetrics leaves a file that needs nothing alone', () => {
    const file = join(tmp(), 'm.jsonl');
    writeFileSync(file, '{"step":1}\n{"step":2}\n');
    truncateMetrics(file, 5);
    expect(readFileSync(file, 'utf8')).toBe('{"step":1}\n{"step":2}\n');
    truncateMetrics(join(tmp(), 'none.jsonl'), 1);
    expect(existsSync(join(tmp(), 'none.jsonl'))).toBe(false);
  });
});
