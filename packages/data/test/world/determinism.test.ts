import { describe, expect, it } from 'vitest';
import { MigeInputError } from '@mige/core';
import { countPlaceholders } from '../../src/format/index.js';
import { TEMPLATES, exampleTask, generateExample, streamExamples, WORLD_TASKS, type WorldExample } from '../../src/world/index.js';

function bytes(e: WorldExample): Buffer {
  return Buffer.concat([...e.entities.map((x) => Buffer.from(x.data)), Buffer.from(e.target.data)]);
}

describe('world determinism', () => {
  it('gives identical bytes for the same (seed, index) whatever the call order', () => {
    const forward = [0, 1, 2, 3, 4, 5].map((i) => generateExample(11, i));
    const backward = [5, 4, 3, 2, 1, 0].map((i) => generateExample(11, i)).reverse();
    forward.forEach((e, i) => {
      const b = backward[i] as WorldExample;
      expect(b.instruction).toBe(e.instruction);
      expect(bytes(b).equals(bytes(e))).toBe(true);
      expect(JSON.stringify(b.annotations)).toBe(JSON.stringify(e.annotations));
    });
  });

  it('streams the same examples as generateExample, lazily', () => {
    const it = streamExamples({ seed: 11, count: 1_000_000, size: 48 });
    const first = it.next().value as WorldExample;
    expect(bytes(first).equals(bytes(generateExample(11, 0, { size: 48 })))).toBe(true);
    const shard = [...streamExamples({ seed: 11, count: 2, start: 3, size: 48 })];
    expect(bytes(shard[1] as WorldExample).equals(bytes(generateExample(11, 4, { size: 48 })))).toBe(true);
  });

  it("tells an example's task without rendering it, as generateExample draws it", () => {
    const ratios = { subject: 1, compose_add: 2 };
    for (let i = 0; i < 60; i++) {
      expect(exampleTask(11, i)).toBe(generateExample(11, i, { size: 32 }).task);
      expect(exampleTask(11, i, { taskRatios: ratios })).toBe(generateExample(11, i, { size: 32, taskRatios: ratios }).task);
    }
    expect(new Set(Array.from({ length: 60 }, (_, i) => exampleTask(11, i))).size).toBe(WORLD_TASKS.length);
    expect(exampleTask(11, 3, { task: 'move' })).toBe('move');
    expect(() => exampleTask(11, -1)).toThrow(/index must be an integer >= 0, got -1/);
  });

  it('differs between seeds', () => {
    for (let i = 0; i < 5; i++) {
      expect(bytes(generateExample(1, i, { task: 'recolor' })).equals(bytes(generateExample(2, i, { task: 'recolor' })))).toBe(false);
    }
  });

  it('pairs every placeholder with one entity, for every task and size', () => {
    for (const size of [32, 64, 128]) {
      for (const task of WORLD_TASKS) {
        for (let i = 0; i < 10; i++) {
          const e = generateExample(5, i, { task, size });
          expect(countPlaceholders(e.instruction)).toBe(e.entities.length);
          expect(e.entities.length).toBeGreaterThan(0);
          expect(e.target.width).toBe(size);
          for (const ent of e.entities) expect(ent.data.length).toBe(size * size * 3);
          if (task === 'subject') expect(e.source).toBeUndefined();
          else expect(e.entities).toContain(e.source);
          expect(e.instruction).not.toMatch(/[{}[\]]|undefined/);
        }
      }
    }
  });

  it('uses at least 3 paraphrases per task', () => {
    for (const task of WORLD_TASKS) {
      const frames = TEMPLATES[task].map((t) => new RegExp(`^${t.replace(/[.*+?^$()|\\]/g, '\\$&').replace(/\{\w+\}/g, '.+').replace(/\[\w+\]/g, '<imagehere>')}$`));
      const used = new Set<number>();
      for (let i = 0; i < 40; i++) {
        const text = generateExample(9, i, { task, size: 32 }).instruction;
        const k = frames.findIndex((f) => f.test(text));
        expect(k, text).toBeGreaterThanOrEqual(0);
        used.add(k);
      }
      expect(used.size).toBeGreaterThanOrEqual(3);
    }
  });

  it('follows task ratios and rejects bad options', () => {
    const tasks = [...streamExamples({ seed: 3, count: 40, size: 32, taskRatios: { remove: 1, move: 3 } })].map((e) => e.task);
    expect(new Set(tasks)).toEqual(new Set(['remove', 'move']));
    expect(tasks.filter((t) => t === 'move').length).toBeGreaterThan(20);
    expect(() => generateExample(1, 0, { size: 16 })).toThrow(MigeInputError);
    expect(() => generateExample(1, 0, { taskRatios: { remove: 0 } })).toThrow(MigeInputError);
    expect(() => generateExample(1, -1)).toThrow(MigeInputError);
  });
});
