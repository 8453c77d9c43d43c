/**
 * Binding: does an edit act on the object its instruction names, and only on it? Two-object
 * scenes of the synthetic world, each edited twice, once naming each object (so a model that
 * always edits the same one of the two scores at most 50%): remove, recolour, move, and replace
 * (a compositional replace) "the named one of two". In every other scene the two objects share
 * their colour, so only the shape word tells them apart. The templates are the world's own, in
 * turn. A case passes when the named object changed as instructed (@mige/data's `instructed`)
 * and the other is kept (`othersUnchanged` = 1: same shape and colour, mask IoU >= 0.6).
 *
 *   npx tsx scripts/world-model/binding.ts --models default=../model-world --count 40 [--seed 0] [--out ../../results/world-binding]
 *
 * `--count` scenes per task (2 cases each), `--tasks` a subset. Writes <out>.json and <out>.md when --out is given, and
 * with `--grid F` a PNG of each task's first two scenes: per case its source, its target and each
 * model's output.
 */
import { MigeInputError, writeImage, writeTextFileAtomic, type RgbImage } from '@mige/core';
import { copySourceModel, imageGrid, objectScores, type EvalModel, type WorldExample } from '@mige/data';
import { flowEvalModel } from '../../src/flows/index.js';
import { loadModel } from '../../src/model/index.js';
import { BINDING_TASKS, bindingCases, type BindingTask } from './binding-cases.js';
import { args, attachTempOnnx, start } from './common.js';

const a = args({ models: '', count: '40', seed: '0', size: '64', out: '', grid: '', tasks: 'remove,recolor,move,compose_replace' });
for (const k of ['count', 'seed', 'size'] as const) {
  if (!/^\d+$/.test(a[k])) throw new MigeInputError(`must be a whole number, got '${a[k]}'`, `--${k}`);
}
const SIZE = Number(a.size);
// --tasks remove,recolor: a subset (a quicker probe).
const tasks = a.tasks.split(',').filter(Boolean) as BindingTask[];
for (const t of tasks) if (!BINDING_TASKS.includes(t)) throw new MigeInputError(`unknown task '${t}' (${BINDING_TASKS.join(', ')})`, '--tasks');

interface Tally { right: number; namedKept: number; otherChanged: number; pairsRight: number; cases: number; pairs: number }

/** The cases the grid shows (each task's first two scenes), with a column per model. */
const gridCases = new Map<WorldExample, RgbImage[]>();

async function score(model: EvalModel, cases: Map<BindingTask, WorldExample[][]>): Promise<Record<BindingTask, Tally>> {
  const result = {} as Record<BindingTask, Tally>;
  for (const [task, pairs] of cases) {
    const t: Tally = { right: 0, namedKept: 0, otherChanged: 0, pairsRight: 0, cases: 0, pairs: pairs.length };
    for (const pair of pairs) {
      let both = true;
      for (const ex of pair) {
        const out = await model(ex);
        gridCases.get(ex)?.push(out);
        const s = objectScores(ex, out);
        const ok = s.instructed === 1 && s.othersUnchanged === 1;
        t.cases++;
        if (ok) t.right++; else both = false;
        if (s.instructed !== 1) t.namedKept++;
        if (s.othersUnchanged !== 1) t.otherChanged++;
      }
      if (both) t.pairsRight++;
    }
    result[task] = t;
  }
  return result;
}

await start();
const cases = bindingCases(Number(a.seed), Number(a.count), tasks, SIZE);
if (a.grid) for (const pairs of cases.values()) for (const ex of pairs.slice(0, 2).flat()) gridCases.set(ex, [ex.source as RgbImage, ex.target]);
const rows: [string, Record<BindingTask, Tally>][] = [['copy-source', await score(copySourceModel, cases)]];
for (const spec of a.models.split(',').filter(Boolean)) {
  const [name, path] = spec.includes('=') ? spec.split('=') as [string, string] : [spec, spec];
  const model = await loadModel(path);
  const detach = await attachTempOnnx(model);
  rows.push([name, await score(flowEvalModel(model, { engine: 'onnx' }), cases)]);
  await detach();
  model.dispose();
}
const pct = (x: number, n: number) => `${((100 * x) / n).toFixed(0)}%`;
const lines = [
  `Binding (two-object scenes, both objects named in turn; ${a.count} scenes per task, seed ${a.seed}): right = the named object changed as instructed and the other kept; in brackets, pairs with both cases right`,
  '',
  `| model | ${tasks.join(' | ')} | all |`,
  `| --- |${tasks.map(() => ' --- |').join('')} --- |`,
];
for (const [name, r] of rows) {
  const all = tasks.reduce((acc, t) => acc + r[t].right, 0), n = tasks.reduce((acc, t) => acc + r[t].cases, 0);
  lines.push(`| ${name} | ${tasks.map((t) => `${pct(r[t].right, r[t].cases)} (${pct(r[t].pairsRight, r[t].pairs)})`).join(' | ')} | **${pct(all, n)}** |`);
}
lines.push('', 'Failures, cases of each task: the named object not changed as instructed / the other object changed or lost.', '');
for (const [name, r] of rows.slice(1)) lines.push(`- ${name}: ${tasks.map((t) => `${t} ${r[t].namedKept} / ${r[t].otherChanged} of ${r[t].cases}`).join('; ')}`);
console.log(lines.join('\n'));
if (a.grid) await writeImage(a.grid, imageGrid([...gridCases.values()].map((row) => [row[0]!, row[1]!, ...row.slice(3)])));
if (a.out) {
  writeTextFileAtomic(`${a.out}.md`, lines.join('\n') + '\n');
  writeTextFileAtomic(`${a.out}.json`, JSON.stringify({ seed: Number(a.seed), count: Number(a.count), rows: Object.fromEntries(rows) }, null, 2) + '\n');
}
