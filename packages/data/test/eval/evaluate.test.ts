import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeImage } from '@mige/core';
import { afterAll, describe, expect, it } from 'vitest';
import { copySourceModel } from '../../src/eval/baselines.js';
import { evaluate, type EvalReport } from '../../src/eval/evaluate.js';
import { OBJECT_FAILURES } from '../../src/eval/object-metrics.js';
import { writeReport } from '../../src/eval/report.js';
import { benchmarkSplit, splitExamples, WORLD_GENERATOR_VERSION } from '../../src/eval/split.js';

const dirs: string[] = [];
afterAll(async () => { for (const d of dirs) await rm(d, { recursive: true, force: true }); });

describe('benchmarkSplit', () => {
  it('is defined by generator version, seed and counts, and is deterministic', () => {
    const a = benchmarkSplit({ seed: 3, counts: { recolor: 2, subject: 1 }, size: 32 });
    expect(a.manifest).toEqual({ generatorVersion: WORLD_GENERATOR_VERSION, seed: 3, size: 32, counts: { recolor: 2, subject: 1 } });
    expect(a.cases).toEqual(benchmarkSplit({ seed: 3, counts: { recolor: 2, subject: 1 }, size: 32 }).cases);
    expect(new Set(a.cases.map((c) => c.index)).size).toBe(3);
    expect([...splitExamples(a)].map((e) => e.task)).toEqual(['recolor', 'recolor', 'subject']);
    expect(() => benchmarkSplit({ seed: 1, counts: { nope: 1 } as never })).toThrow(/unknown task/);
  });
});

describe('evaluate + writeReport', () => {
  it('runs a 20-case split end to end and writes report.json, report.md, grid.png', async () => {
    const split = benchmarkSplit({ seed: 5, counts: { recolor: 5, remove: 5, compose_add: 5, subject: 5 }, size: 48 });
    const { report, samples } = await evaluate({ examples: splitExamples(split), model: async (e) => copySourceModel(e), name: 'copy-source', manifest: split.manifest });
    expect(report.overall.n).toBe(20);
    expect(samples.length).toBe(4);
    const dir = await mkdtemp(join(tmpdir(), 'mige-eval-'));
    dirs.push(dir);
    await writeReport(dir, report, samples);
    const json = JSON.parse(await readFile(join(dir, 'report.json'), 'utf8')) as EvalReport;
    expect(json.tasks.recolor?.n).toBe(5);
    expect(json.manifest?.seed).toBe(5);
    const md = await readFile(join(dir, 'report.md'), 'utf8');
    expect(md).toMatch(/\| recolor \| 5 \|/);
    // The metrics table (head, 4 tasks, all), then the failure table (head, recolor, compose_add).
    expect(md.split('\n').filter((l) => l.startsWith('|')).length).toBe(2 + 4 + 1 + 2 + 2);
    const sum = (counts: Record<string, number> | undefined) => Object.values(counts ?? {}).reduce((a, b) => a + b, 0);
    expect(Object.keys(json.failures ?? {}).sort()).toEqual(['compose_add', 'recolor']);
    expect(sum(json.failures?.recolor)).toBe(5);
    expect(md).toMatch(new RegExp(`\\| compose_add \\| ${OBJECT_FAILURES.map((k) => json.failures?.compose_add?.[k] ?? 0).join(' \\| ')} \\|`));
    expect((await stat(join(dir, 'grid.png'))).size).toBeGreaterThan(0);
    const grid = await decodeImage(join(dir, 'grid.png'));
    expect(grid.height).toBe(4 * 48 + 5 * 2);
  });
});
