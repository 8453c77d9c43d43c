import { MigeInputError } from '@mige/core';
import { describe, expect, it } from 'vitest';
import { TaskSampler, type TaskSamplerState } from '../../src/sampler/index.js';

const sizes = { add: 5, replace: 7, subject: 3, edit: 11 };
const equal = { add: 1, replace: 1, subject: 1, edit: 1 };

describe('TaskSampler', () => {
  it('is deterministic per seed and differs across seeds', () => {
    const a = new TaskSampler(sizes, equal, 42).take(50);
    expect(new TaskSampler(sizes, equal, 42).take(50)).toEqual(a);
    expect(new TaskSampler(sizes, equal, 43).take(50)).not.toEqual(a);
    // Key order of the config does not change the sequence.
    const reordered = new TaskSampler({ edit: 11, subject: 3, replace: 7, add: 5 }, { edit: 1, subject: 1, replace: 1, add: 1 }, 42);
    expect(reordered.take(50)).toEqual(a);
  });

  it('draws without replacement within each epoch of each task, reshuffling per epoch', () => {
    const draws = new TaskSampler({ a: 6, b: 4 }, { a: 1, b: 1 }, 7).take(400);
    for (const [task, size] of [['a', 6], ['b', 4]] as const) {
      const idx = draws.filter((d) => d.task === task).map((d) => d.index);
      const epochs: number[][] = [];
      for (let i = 0; i + size <= idx.length; i += size) epochs.push(idx.slice(i, i + size));
      expect(epochs.length).toBeGreaterThan(20);
      for (const e of epochs) expect([...e].sort((x, y) => x - y)).toEqual(Array.from({ length: size }, (_, i) => i));
      expect(new Set(epochs.map((e) => e.join(','))).size).toBeGreaterThan(1);
    }
  });

  it('follows the ratios', () => {
    const draws = new TaskSampler(sizes, { add: 3, replace: 1, subject: 0, edit: 0 }, 1).take(8000);
    const add = draws.filter((d) => d.task === 'add').length;
    expect(draws.some((d) => d.task === 'subject' || d.task === 'edit')).toBe(false);
    expect(add / 8000).toBeGreaterThan(0.73);
    expect(add / 8000).toBeLessThan(0.77);
  });

  it('resumes: N draws, save, restore (through JSON), M draws equals N + M in one go', () => {
    for (const n of [0, 1, 9, 26, 100]) {
      const whole = new TaskSampler(sizes, equal, 5).take(n + 60);
      const first = new TaskSampler(sizes, equal, 5);
      const head = first.take(n);
      const saved = JSON.parse(JSON.stringify(first.state())) as TaskSamplerState;
      const resumed = TaskSampler.fromState(saved);
      expect([...head, ...resumed.take(60)]).toEqual(whole);
      expect(resumed.drawCount).toBe(n + 60);
    }
  });

  it('rejects invalid ratios, sizes and states', () => {
    const bad: [Record<string, number>, Record<string, number>, RegExp][] = [
      [sizes, { add: -1, edit: 1 }, /ratio of task "add" must be a finite number >= 0, got -1/],
      [sizes, { add: 0, edit: 0 }, /at least one task needs a ratio > 0/],
      [sizes, {}, /at least one task needs a ratio > 0/],
      [sizes, { move: 1 }, /ratio given for unknown task "move"/],
      [sizes, { add: Number.NaN }, /ratio of task "add"/],
      [{ ...sizes, add: 0 }, { add: 1 }, /task "add" has ratio 1 but an empty dataset/],
      [{ ...sizes, add: 2.5 }, { edit: 1 }, /dataset size of task "add" must be a non-negative integer/],
    ];
    for (const [s, r, msg] of bad) {
      expect(() => new TaskSampler(s, r)).toThrow(MigeInputError);
      expect(() => new TaskSampler(s, r)).toThrow(msg);
    }
    expect(() => new TaskSampler(sizes, equal).take(-1)).toThrow(MigeInputError);
    const state = new TaskSampler(sizes, equal, 1).state();
    expect(() => TaskSampler.fromState({ ...state, cursors: { ...state.cursors, add: { epoch: 0, cursor: 6 } } })).toThrow(/cursors\["add"\]/);
    expect(() => TaskSampler.fromState({ ...state, rng: { s: [1], spare: null } })).toThrow(/4 words/);
  });
});
