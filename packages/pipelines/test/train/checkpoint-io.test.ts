// Atomic training checkpoints: layout, round trip, latest.json, crash safety, pruning, errors.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MigeInputError, nn, Rng, tf } from '@mige/core';
import { useBackend } from '@mige/core/testing';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Ema, listCheckpoints, readCheckpoint, readLatest, writeCheckpoint, type CheckpointContents } from '../../src/train/index.js';

let dir: string;

beforeAll(async () => {
  await useBackend('cpu');
});
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mige-ckpt-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A tiny model after one AdamW step, its optimiser state, an EMA and a state object. */
function contents(seed: number, withEma = true): CheckpointContents<{ step: number; rng: ReturnType<Rng['getState']>; epoch: number }> {
  const w = tf.variable(tf.tensor2d([[seed, 2], [3, 4]]));
  const b = tf.variable(tf.tensor1d([0.5]));
  const params: [string, tf.Variable][] = [['proj.weight', w], ['proj.bias', b]];
  const opt = new nn.AdamW(params, { lr: 0.1 });
  opt.apply({ 'proj.weight': tf.ones([2, 2]), 'proj.bias': tf.ones([1]) });
  const ema = new Ema(params, 0.9);
  return {
    model: new Map<string, tf.Tensor>([...params, ['counts', tf.tensor1d([1, 2, 3], 'int32')]]),
    optimizer: opt.stateDict(),
    ...(withEma ? { ema: ema.stateDict() } : {}),
    state: { step: seed, rng: new Rng(seed).getState(), epoch: 3 },
  };
}

const values = (m: Map<string, tf.Tensor>, k: string): number[] => Array.from((m.get(k) as tf.Tensor).dataSync());

describe('writeCheckpoint / readCheckpoint', () => {
  it('writes the step folder and latest.json, and reads back the same tensors and state', () => {
    const c = contents(120);
    const out = writeCheckpoint(dir, { ...c, step: 120 });
    expect(out).toBe(path.join(dir, 'step-00000120'));
    expect(fs.readdirSync(out).sort()).toEqual(['ema.safetensors', 'model.safetensors', 'optimizer.safetensors', 'state.json']);
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'latest.json'), 'utf8'))).toEqual({ step: 120, path: 'step-00000120' });
    expect(fs.readdirSync(dir).sort()).toEqual(['latest.json', 'step-00000120']); // no temp files left
    for (const where of [dir, out]) {
      const r = readCheckpoint<typeof c.state>(where);
      expect(r.step).toBe(120);
      expect(r.path).toBe(out);
      expect(r.state).toEqual(c.state);
      expect(Rng.fromState(r.state.rng).uniform()).toBe(new Rng(120).uniform());
      expect([...r.model.keys()].sort()).toEqual(['counts', 'proj.bias', 'proj.weight']);
      expect(values(r.model, 'proj.weight')).toEqual(values(c.model, 'proj.weight'));
      expect(r.model.get('counts')?.dtype).toBe('int32');
      expect(values(r.model, 'counts')).toEqual([1, 2, 3]);
      expect([...r.optimizer.keys()].sort()).toEqual(['exp_avg.proj.bias', 'exp_avg.proj.weight', 'exp_avg_sq.proj.bias', 'exp_avg_sq.proj.weight']);
      // After one AdamW step with gradient 1: exp_avg = 0.1, exp_avg_sq = 0.001.
      values(r.optimizer, 'exp_avg.proj.weight').forEach((v) => expect(v).toBeCloseTo(0.1, 6));
      values(r.optimizer, 'exp_avg_sq.proj.bias').forEach((v) => expect(v).toBeCloseTo(0.001, 7));
      expect(values(r.ema as Map<string, tf.Tensor>, 'proj.bias')).toEqual(values(c.ema as Map<string, tf.Tensor>, 'proj.bias'));
    }
  });

  it('omits ema.safetensors when there is no EMA, and latest.json follows the newest write', () => {
    writeCheckpoint(dir, { ...contents(1), step: 1 });
    writeCheckpoint(dir, { ...contents(2, false), step: 2 });
    expect(readLatest(dir)).toEqual({ step: 2, path: 'step-00000002' });
    const r = readCheckpoint(dir);
    expect(r.step).toBe(2);
    expect(r.ema).toBeUndefined();
    expect(values(r.model, 'proj.weight')[0]).not.toBe(2); // AdamW moved it from 2
    expect(listCheckpoints(dir).map((c) => c.step)).toEqual([1, 2]);
  });

  it('a crash after model.safetensors leaves the previous checkpoint and latest.json intact', () => {
    writeCheckpoint(dir, { ...contents(100), step: 100 });
    const latestBefore = fs.readFileSync(path.join(dir, 'latest.json'));
    const crash = (file: string): void => {
      if (file === 'model.safetensors') throw new Error('simulated crash');
    };
    expect(() => writeCheckpoint(dir, { ...contents(200), step: 200 }, { onFileWritten: crash })).toThrow('simulated crash');
    expect(fs.readFileSync(path.join(dir, 'latest.json'))).toEqual(latestBefore);
    expect(fs.readdirSync(dir).sort()).toEqual(['latest.json', 'step-00000100']);
    expect(readCheckpoint(dir).step).toBe(100);
  });

  it('a partial temp folder from a dead writer is ignored, then cleaned by the next write', () => {
    writeCheckpoint(dir, { ...contents(100), step: 100 });
    // pid 999999999 is above Linux's pid_max, so no live process has it.
    const partial = path.join(dir, '.step-00000200.tmp-999999999-abcd');
    fs.mkdirSync(partial);
    fs.writeFileSync(path.join(partial, 'model.safetensors'), Buffer.from([1, 2, 3]));
    expect(readCheckpoint(dir).step).toBe(100);
    expect(listCheckpoints(dir).map((c) => c.step)).toEqual([100]);
    writeCheckpoint(dir, { ...contents(300), step: 300 });
    expect(fs.existsSync(partial)).toBe(false);
    expect(readCheckpoint(dir).step).toBe(300);
  });

  it('keepLast prunes old step folders', () => {
    for (const s of [10, 20, 30, 40, 50]) writeCheckpoint(dir, { ...contents(s, false), step: s }, { keepLast: 2 });
    expect(listCheckpoints(dir).map((c) => c.step)).toEqual([40, 50]);
    expect(readCheckpoint(dir).step).toBe(50);
    expect(() => writeCheckpoint(dir, { ...contents(60), step: 60 }, { keepLast: 0 })).toThrow(/keepLast must be an integer ≥ 1, got 0/);
  });

  it('refuses to replace an existing step unless asked', () => {
    writeCheckpoint(dir, { ...contents(7), step: 7 });
    expect(() => writeCheckpoint(dir, { ...contents(8), step: 7 })).toThrow(/a checkpoint for step 7 already exists/);
    writeCheckpoint(dir, { ...contents(9), step: 7 }, { overwrite: true });
    const r = readCheckpoint<{ step: number }>(dir);
    expect(r.state.step).toBe(9);
    expect(fs.readdirSync(dir).sort()).toEqual(['latest.json', 'step-00000007']);
  });

  it('rejects bad steps, dtypes and unserialisable state before writing anything', () => {
    expect(() => writeCheckpoint(dir, { ...contents(1), step: -1 })).toThrow(/step must be an integer in 0\.\.99999999, got -1/);
    expect(() => writeCheckpoint(dir, { ...contents(1), state: { big: 1n }, step: 1 })).toThrow(/state.json: state is not JSON-serialisable/);
    expect(() => writeCheckpoint(dir, { ...contents(1), state: undefined, step: 1 })).toThrow(MigeInputError);
    const bad = { ...contents(1), model: new Map([['flag', tf.tensor1d([true], 'bool')]]) };
    expect(() => writeCheckpoint(dir, { ...bad, step: 1 })).toThrow(/model.safetensors: tensor flag: has dtype bool/);
    expect(fs.readdirSync(dir)).toEqual([]); // not even a temp folder
  });
});

describe('readCheckpoint errors name the file', () => {
  let stepDir: string;
  beforeEach(() => {
    stepDir = writeCheckpoint(dir, { ...contents(5), step: 5 });
  });

  const expectInputError = (fn: () => unknown, file: string, message: RegExp): void => {
    let caught: unknown;
    try {
      fn();
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(MigeInputError);
    expect((caught as MigeInputError).where).toBe(file);
    expect((caught as Error).message).toMatch(message);
  };

  it('a folder with no latest.json', () => {
    const empty = path.join(dir, 'empty');
    fs.mkdirSync(empty);
    expectInputError(() => readCheckpoint(empty), path.join(empty, 'latest.json'), /missing \(not a checkpoint run folder/);
  });

  it('latest.json that is not JSON, lacks fields, or names a missing folder', () => {
    const latest = path.join(dir, 'latest.json');
    fs.writeFileSync(latest, '{"step": 5,');
    expectInputError(() => readCheckpoint(dir), latest, /not valid JSON/);
    fs.writeFileSync(latest, '{"step": 5}');
    expectInputError(() => readCheckpoint(dir), latest, /path must be a non-empty string/);
    fs.writeFileSync(latest, '{"step": 9, "path": "step-00000009"}');
    expectInputError(() => readCheckpoint(dir), latest, /names step-00000009, which does not exist/);
  });

  it('a missing optimizer.safetensors', () => {
    fs.rmSync(path.join(stepDir, 'optimizer.safetensors'));
    expectInputError(() => readCheckpoint(dir), path.join(stepDir, 'optimizer.safetensors'), /missing from the checkpoint/);
  });

  it('a truncated model.safetensors', () => {
    const file = path.join(stepDir, 'model.safetensors');
    const bytes = fs.readFileSync(file);
    fs.writeFileSync(file, bytes.subarray(0, bytes.length - 5));
    let caught: unknown;
    try {
      readCheckpoint(stepDir);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(MigeInputError);
    expect((caught as Error).message).toContain(file);
  });

  it('a state.json that is not JSON, or missing', () => {
    const file = path.join(stepDir, 'state.json');
    fs.writeFileSync(file, 'step: 5');
    expectInputError(() => readCheckpoint(stepDir), file, /not valid JSON/);
    fs.rmSync(file);
    expectInputError(() => readCheckpoint(stepDir), file, /missing from the checkpoint/);
  });
});
