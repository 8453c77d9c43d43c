/**
 * The default model's benchmark table: every metric of @mige/data's synthetic-world benchmark for
 * the given models and the copy-source baseline. Writes <out>.json (machine-readable) and
 * <out>.md (the table RESULTS.md shows).
 *
 *   npx tsx scripts/world-model/evaluate.ts --models default=../model-world,edit-only=runs/world/ablation-edit-only/model --count 40 --out ../../results/world-benchmark
 *
 * The flows run on ONNX Runtime (each model exported to a temp folder) unless --engine tfjs.
 * `--chance-for default` also runs that model with another case's instruction (same task, same
 * number of images) on each case's own images: how often an instruction check passes by accident
 * for that model (the "another target" row is no chance level for remove: any other image lacks
 * the removed object). Rows "edits" and "compositions" are the means over their tasks.
 * `--tasks subject,add` evaluates only those tasks (a quicker probe).
 * `--include a.json,b.json` adds the model rows of earlier runs on the same split and settings
 * (for example the ablations, evaluated once, next to a re-evaluated default model);
 * `--chance-only true` then runs only the `--chance-for` rows of models evaluated earlier.
 * Each row's placed-object failures (objectFailure: right, wrong-size, not-moved, ...) follow the tables.
 * `--count full` evaluates the data issue's whole split (500 subject and composition cases per
 * task, 200 per edit task) instead of each task's first N.
 */
import { readFileSync } from 'node:fs';
import { MigeInputError, tensorToImages, tf, vaeTransformBatch, writeTextFileAtomic, type RgbImage } from '@mige/core';
import { benchmarkSplit, copySourceModel, DEFAULT_SPLIT_COUNTS, evaluate, failureMarkdown, METRIC_NAMES, splitExamples, WORLD_TASKS, type EvalReport, type ScoreRow, type WorldExample, type WorldTask } from '@mige/data';
import type { GuidanceScales, SamplerConfig } from '../../src/diffusion/index.js';
import { flowEvalModel } from '../../src/flows/index.js';
import { loadModel } from '../../src/model/index.js';
import { args, attachTempOnnx, start } from './common.js';

const a = args({ models: '', count: '40', steps: '', seed: '0', out: '../../results/world-benchmark', 'vae-ceiling': '', sampler: '', scales: '', engine: 'onnx', 'chance-for': '', 'chance-only': 'false', include: '', tasks: WORLD_TASKS.join(',') });
// --sampler '{"type":"ddim"}' (JSON SamplerConfig): default, the model's own (sampling.json, else the reference's).
const sampler = a.sampler ? (JSON.parse(a.sampler) as SamplerConfig) : undefined;
// --scales '{"y":3,"s":1.5}': guidance scales for every flow (default, the model's own).
const scales = a.scales ? (JSON.parse(a.scales) as GuidanceScales) : undefined;
if (!['true', 'false'].includes(a['chance-only'])) throw new MigeInputError(`--chance-only must be true or false, got '${a['chance-only']}'`, '--chance-only');
if (a['chance-only'] === 'true' && !a['chance-for']) throw new MigeInputError('--chance-only true needs --chance-for (the models whose chance rows to run)', '--chance-only');
await start();
// --tasks subject,add: only these tasks (a quicker probe; the table's groups need them all).
const tasks = a.tasks.split(',').filter(Boolean) as WorldTask[];
for (const t of tasks) if (!WORLD_TASKS.includes(t)) throw new MigeInputError(`unknown task '${t}' (tasks: ${WORLD_TASKS.join(', ')})`, '--tasks');
// --count full: the data issue's whole split (DEFAULT_SPLIT_COUNTS: 500 per subject / composition
// task, 200 per edit task); a number N takes each task's first N of those cases.
if (a.count !== 'full' && !/^\d+$/.test(a.count)) throw new MigeInputError(`--count must be a number of cases per task or 'full', got '${a.count}'`, '--count');
const split = benchmarkSplit({ seed: Number(a.seed), size: 64, counts: Object.fromEntries(tasks.map((t) => [t, a.count === 'full' ? DEFAULT_SPLIT_COUNTS[t] : Number(a.count)])) });
// Earlier runs' model rows: only from the same split and settings, and never twice under one name.
const settings = { split: split.manifest, steps: a.steps ? Number(a.steps) : 'model default', sampler: sampler ?? 'model default', scales: scales ?? 'model default' };
// Read first, so that a mismatch fails before any model runs.
const included: EvalReport[] = [];
for (const file of a.include.split(',').filter(Boolean)) {
  const earlier = JSON.parse(readFileSync(file, 'utf8')) as typeof settings & { reports?: EvalReport[] };
  for (const k of Object.keys(settings) as (keyof typeof settings)[]) {
    if (JSON.stringify(earlier[k]) !== JSON.stringify(settings[k])) throw new MigeInputError(`${k} differs from this run's (${JSON.stringify(settings[k])}); evaluate with the same --count, --seed, --steps, --sampler and --scales`, file);
  }
  if (!Array.isArray(earlier.reports)) throw new MigeInputError('not an evaluate.ts results file (needs reports)', file);
  included.push(...earlier.reports);
}
const reports: EvalReport[] = [];
const copy = await evaluate({ examples: splitExamples(split), model: copySourceModel, name: 'copy-source', manifest: split.manifest });
reports.push(copy.report);
// The cases by task, in split order: the chance rows pick another case of the same task.
const casesOf = new Map<string, WorldExample[]>();
for (const ex of splitExamples(split)) casesOf.set(ex.task, [...(casesOf.get(ex.task) ?? []), ex]);
const indexIn = (list: WorldExample[], ex: WorldExample) => list.findIndex((e) => e.instruction === ex.instruction);
// Chance: another example's target of the same task, a right-looking image that ignores the input.
const shuffled = (ex: WorldExample): RgbImage => {
  const list = casesOf.get(ex.task) as WorldExample[];
  return (list[(indexIn(list, ex) + 1) % list.length] as WorldExample).target;
};
reports.push((await evaluate({ examples: splitExamples(split), model: shuffled, name: 'chance (another target)', manifest: split.manifest })).report);
const sourceSlot = (ex: WorldExample) => (ex.source ? ex.entities.indexOf(ex.source) : -1);
/** The next case's instruction of the same task with as many images, the source in the same slot. */
const otherInstruction = (ex: WorldExample): string => {
  const list = casesOf.get(ex.task) as WorldExample[];
  const i = indexIn(list, ex);
  for (let k = 1; k < list.length; k++) {
    const other = list[(i + k) % list.length] as WorldExample;
    if (other.instruction !== ex.instruction && other.entities.length === ex.entities.length && sourceSlot(other) === sourceSlot(ex)) return other.instruction;
  }
  return ex.instruction;
};
if (a['vae-ceiling']) {
  // The target through the model's VAE (encode → mean → decode): the best any model with this VAE can score.
  const model = await loadModel(a['vae-ceiling']);
  const roundTrip = (ex: { target: RgbImage }): RgbImage => {
    const x = vaeTransformBatch([ex.target], ex.target.width);
    const dist = model.vae.encode(x);
    const decoded = tf.tidy(() => model.vae.decode(dist.mode()));
    const out = tensorToImages(decoded)[0] as RgbImage;
    tf.dispose([x, decoded]);
    dist.dispose();
    return out;
  };
  reports.push((await evaluate({ examples: splitExamples(split), model: roundTrip, name: 'vae-round-trip (ceiling)', manifest: split.manifest })).report);
  model.dispose();
}
const chanceReports: EvalReport[] = [];
for (const entry of a.models.split(',').filter(Boolean)) {
  const [name, dir] = entry.split('=') as [string, string];
  const t0 = performance.now();
  const model = await loadModel(dir);
  const detach = a.engine === 'onnx' ? await attachTempOnnx(model) : null;
  const flow = flowEvalModel(model, { engine: detach ? 'onnx' : 'tfjs', ...(a.steps ? { steps: Number(a.steps) } : {}), ...(sampler ? { sampler } : {}), ...(scales ? { scales } : {}) });
  // --chance-only true: only the chance rows (the model's own row comes from an --include file).
  const own = a['chance-only'] === 'true' ? null : (await evaluate({ examples: splitExamples(split), model: flow, name, manifest: split.manifest })).report;
  if (a['chance-for'].split(',').includes(name)) {
    const withOther = (ex: WorldExample) => flow({ ...ex, instruction: otherInstruction(ex) });
    chanceReports.push((await evaluate({ examples: splitExamples(split), model: withOther, name: `chance (${name}, another instruction)`, manifest: split.manifest })).report);
  }
  await detach?.();
  model.dispose();
  reports.push(...(own ? [own] : included.filter((r) => r.name === name)), ...chanceReports.splice(0));
  console.log(`${name}: ${split.cases.length} cases in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
}
for (const r of included) if (!reports.some((x) => x.name === r.name)) reports.push(r);
const f = (v: number | null) => (v === null ? '–' : v.toFixed(3));
const lines = [`Benchmark: synthetic world, ${a.count === 'full' ? 'the whole split (500 per subject and composition task, 200 per edit task)' : `${a.count} cases per task`} (split seed ${a.seed}, 64 px), ${a.steps || 'the model\'s default'} steps of ${a.sampler || 'the model\'s default sampler'}, guidance scales ${a.scales || 'the model\'s defaults'} (a model folder's sampling.json, else the reference's), seed 0.`, ''];
// The bar's groups: each task's mean weighs the same (a metric that does not apply stays null).
const GROUPS = { edits: ['background', 'recolor', 'remove', 'add', 'move', 'resize'], compositions: ['compose_add', 'compose_replace'] } as const;
const groupRow = (r: EvalReport, tasks: readonly WorldTask[]): ScoreRow => {
  const rows = tasks.map((t) => r.tasks[t]).filter((x): x is ScoreRow => x !== undefined);
  const metrics = Object.fromEntries(METRIC_NAMES.map((m) => {
    const vals = rows.map((x) => x.metrics[m]).filter((v): v is number => v !== null);
    return [m, vals.length === rows.length && vals.length > 0 ? vals.reduce((p, v) => p + v, 0) / vals.length : null];
  })) as ScoreRow['metrics'];
  return { n: rows.reduce((p, x) => p + x.n, 0), metrics };
};
const groups = reports.map((r) => ({ name: r.name, edits: groupRow(r, GROUPS.edits), compositions: groupRow(r, GROUPS.compositions) }));
for (const task of [...WORLD_TASKS, ...(Object.keys(GROUPS) as (keyof typeof GROUPS)[]), 'overall'] as const) {
  lines.push(`### ${task}`, '', `| model | ${METRIC_NAMES.join(' | ')} |`, `| --- | ${METRIC_NAMES.map(() => '---').join(' | ')} |`);
  for (const [i, r] of reports.entries()) {
    const row = task === 'overall' ? r.overall : task === 'edits' || task === 'compositions' ? groups[i]?.[task] : r.tasks[task];
    if (row) lines.push(`| ${r.name} | ${METRIC_NAMES.map((m) => f(row.metrics[m])).join(' | ')} |`);
  }
  lines.push('');
}
// Why the placed-object checks fail, per row (@mige/data's objectFailure counts).
for (const r of reports) {
  const table = failureMarkdown(r);
  if (table) lines.push(`### why placed objects fail: ${r.name}`, '', table);
}
writeTextFileAtomic(`${a.out}.json`, `${JSON.stringify({ ...settings, reports, groups }, null, 2)}\n`);
writeTextFileAtomic(`${a.out}.md`, `${lines.join('\n')}\n`);
console.log(lines.join('\n'));
