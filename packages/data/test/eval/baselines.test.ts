import { describe, expect, it } from 'vitest';
import { copySourceModel, groundTruthModel } from '../../src/eval/baselines.js';
import { evaluate, type EvalReport } from '../../src/eval/evaluate.js';
import { benchmarkSplit, splitExamples } from '../../src/eval/split.js';
import { WORLD_TASKS, type WorldTask } from '../../src/world/index.js';

const counts = Object.fromEntries(WORLD_TASKS.map((t) => [t, 25])) as Record<WorldTask, number>;
const split = benchmarkSplit({ seed: 7, counts, size: 64 });
const PLACING: WorldTask[] = ['recolor', 'add', 'move', 'resize', 'compose_add', 'compose_replace'];
const metric = (r: EvalReport, t: WorldTask, m: 'l1' | 'instructed' | 'othersUnchanged' | 'subjectPreserved') => r.tasks[t]?.metrics[m];

describe('baselines', () => {
  it('ground truth scores perfectly', async () => {
    const { report } = await evaluate({ examples: splitExamples(split), model: groundTruthModel, name: 'gt' });
    for (const t of WORLD_TASKS) {
      expect(metric(report, t, 'l1')).toBe(0);
      expect(metric(report, t, 'instructed')).toBe(1);
      const others = metric(report, t, 'othersUnchanged');
      if (others !== null) expect(others).toBe(1);
    }
    for (const t of ['subject', 'compose_add', 'compose_replace'] as const) expect(metric(report, t, 'subjectPreserved')).toBe(1);
    expect(report.overall.n).toBe(25 * WORLD_TASKS.length);
    expect(report.failures).toEqual(Object.fromEntries(PLACING.map((t) => [t, { right: 25 }])));
  });

  it('copy-source keeps other objects but does none of the edits', async () => {
    const { report } = await evaluate({ examples: splitExamples(split), model: copySourceModel, name: 'copy' });
    for (const t of ['recolor', 'remove', 'add', 'move', 'compose_add', 'compose_replace', 'background'] as const) {
      expect(metric(report, t, 'instructed')).toBeLessThan(0.05);
    }
    for (const t of ['recolor', 'move', 'resize', 'remove', 'add', 'background', 'compose_add'] as const) {
      expect(metric(report, t, 'othersUnchanged')).toBe(1);
    }
    expect(metric(report, 'subject', 'instructed')).toBe(0);
    expect(metric(report, 'subject', 'subjectPreserved')).toBe(0);
    expect(metric(report, 'recolor', 'l1')).toBeGreaterThan(0);
    // The source holds the moved object where it was, and the recoloured one in its old colour.
    expect(report.failures?.move).toEqual({ 'not-moved': 25 });
    expect(report.failures?.recolor?.right ?? 0).toBe(0);
  });
});
