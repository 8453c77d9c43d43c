/**
 * The default model's benchmark table: every metric of @mige/data's synthetic-world benchmark for
 * the given models and the copy-source baseline. Writes <out>.json (machine-readable) and
 * <out>.md (the table RESULTS.md shows).
 *
 *   npx tsx scripts/world-model/evaluate.ts --models default=models/mige-world,edit-only=runs/world/ablation-edit-only/model --count 40 --out ../../results/world-benchmark
 */
import { writeTextFileAtomic } from '@mige/core';
import { benchmarkSplit, copySourceModel, evaluate, METRIC_NAMES, splitExamples, WORLD_TASKS, type EvalReport } from '@mige/data';
import { flowEvalModel } from '../../src/flows/index.js';
import { loadModel } from '../../src/model/index.js';
import { args, start } from './common.js';

const a = args({ models: '', count: '40', steps: '20', seed: '0', out: '../../results/world-benchmark' });
await start();
const split = benchmarkSplit({ seed: Number(a.seed), size: 64, counts: Object.fromEntries(WORLD_TASKS.map((t) => [t, Number(a.count)])) });
const reports: EvalReport[] = [];
const copy = await evaluate({ examples: splitExamples(split), model: copySourceModel, name: 'copy-source', manifest: split.manifest });
reports.push(copy.report);
for (const entry of a.models.split(',').filter(Boolean)) {
  const [name, dir] = entry.split('=') as [string, string];
  const t0 = performance.now();
  const model = await loadModel(dir);
  const { report } = await evaluate({ examples: splitExamples(split), model: flowEvalModel(model, { steps: Number(a.steps) }), name, manifest: split.manifest });
  model.dispose();
  reports.push(report);
  console.log(`${name}: ${report.overall.n} cases in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
}
const f = (v: number | null) => (v === null ? '–' : v.toFixed(3));
const lines = [`Benchmark: synthetic world, ${a.count} cases per task (split seed ${a.seed}, 64 px), ${a.steps} DPM-Solver++ steps, seed 0.`, ''];
for (const task of [...WORLD_TASKS, 'overall'] as const) {
  lines.push(`### ${task}`, '', `| model | ${METRIC_NAMES.join(' | ')} |`, `| --- | ${METRIC_NAMES.map(() => '---').join(' | ')} |`);
  for (const r of reports) {
    const row = task === 'overall' ? r.overall : r.tasks[task];
    if (row) lines.push(`| ${r.name} | ${METRIC_NAMES.map((m) => f(row.metrics[m])).join(' | ')} |`);
  }
  lines.push('');
}
writeTextFileAtomic(`${a.out}.json`, `${JSON.stringify({ split: split.manifest, steps: Number(a.steps), reports }, null, 2)}\n`);
writeTextFileAtomic(`${a.out}.md`, `${lines.join('\n')}\n`);
console.log(lines.join('\n'));
