/**
 * Writes the demo's inputs (demo/*.png + demo/demo.json) from the synthetic world: one subject-
 * driven generation, one edit and one compositional edit, at the default model's 64 px.
 *
 *   npx tsx scripts/make-demo-inputs.ts                         # each task's case 0
 *     [--tasks subject,remove,compose_replace]                   # the three examples' world tasks
 *   npx tsx scripts/make-demo-inputs.ts --model DIR --scan 40   # each task's first case that DIR
 *                                                               # carries out, as the demo runs it
 *
 * With --scan the script runs each task's first N cases exactly as demo.mjs does (seed 0, the
 * model's sampling.json) and keeps the first whose output passes the world's object-level check
 * (objectScores' `instructed`); demo.json records how many of the N passed, so the pick is not
 * mistaken for the model's rate (that is the benchmark's job: RESULTS.md).
 */
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { initBackend, writeImage, writeTextFileAtomic, type RgbImage } from '@mige/core';
import { generateExample, objectScores, WORLD_TASKS, type WorldExample, type WorldTask } from '@mige/data';
import { flowEvalModel, loadModel } from '../src/index.js';

const { values } = parseArgs({
  options: { model: { type: 'string' }, scan: { type: 'string', default: '0' }, tasks: { type: 'string', default: 'subject,remove,compose_replace' } },
});
const scan = Number(values.scan);
if (!Number.isInteger(scan) || scan < 0) throw new Error(`--scan must be a whole number of cases, got '${values.scan}'`);
if (scan > 0 && !values.model) throw new Error('--scan needs --model DIR (the model the demo runs)');

const DIR = new URL('../demo/', import.meta.url).pathname;
const SEED = 424242;
// --tasks: the generate, edit and compose examples' world tasks, in that order.
const tasks = values.tasks.split(',') as WorldTask[];
if (tasks.length !== 3) throw new Error(`--tasks takes three world tasks (generate, edit, compose), got '${values.tasks}'`);
for (const t of tasks) if (!WORLD_TASKS.includes(t)) throw new Error(`--tasks: unknown world task '${t}' (one of ${WORLD_TASKS.join(', ')})`);
const picks = (['generate', 'edit', 'compose'] as const).map((name, k) => ({ name, task: tasks[k] as WorldTask }));

// demo.mjs's call for each flow (seed 0, the model's own sampling defaults).
let run: ((ex: WorldExample) => Promise<RgbImage>) | null = null;
if (scan > 0 && values.model) {
  await initBackend({ log: null });
  const flow = flowEvalModel(await loadModel(values.model), { seed: 0 });
  run = async (ex) => flow(ex);
}

const demo: Record<string, unknown>[] = [];
const written = new Set<string>();
const write = async (file: string, img: RgbImage): Promise<void> => {
  await writeImage(join(DIR, file), img);
  written.add(file);
};
// Scan every task before writing anything: a task the model carries out in none of the cases
// would give the demo an example it fails, so it stops here with the demo as it was.
const scanned = new Map<WorldTask, number[]>();
if (run) {
  for (const p of picks) {
    if (scanned.has(p.task)) continue;
    const passed: number[] = [];
    for (let i = 0; i < scan; i++) {
      const ex = generateExample(SEED, i, { task: p.task, size: 64 });
      if (objectScores(ex, await run(ex)).instructed === 1) passed.push(i);
    }
    console.log(`${p.task}: ${passed.length} of ${scan} carried out (cases ${passed.join(', ') || 'none'})`);
    scanned.set(p.task, passed);
  }
  const none = picks.filter((p) => scanned.get(p.task)?.length === 0).map((p) => p.task);
  if (none.length > 0) {
    throw new Error(`${values.model} carries out none of the first ${scan} cases of ${none.join(', ')}: demo/ left unchanged (try a larger --scan or other --tasks)`);
  }
}
for (const p of picks) {
  const passed = scanned.get(p.task) ?? [];
  const index = passed[0] ?? 0;
  const ex = generateExample(SEED, index, { task: p.task, size: 64 });
  const entities: string[] = [];
  for (let k = 0; k < ex.entities.length; k++) {
    const img = ex.entities[k];
    if (!img) continue;
    const file = img === ex.source ? `${p.name}-source.png` : `${p.name}-subject${k}.png`;
    await write(file, img);
    entities.push(file);
  }
  if (ex.source && !ex.entities.includes(ex.source)) await write(`${p.name}-source.png`, ex.source);
  await write(`${p.name}-expected.png`, ex.target);
  const selection = run ? { index, scanned: scan, carriedOut: passed.length } : { index };
  demo.push({ flow: p.name, task: p.task, instruction: ex.instruction, entities, source: ex.source ? `${p.name}-source.png` : null, expected: `${p.name}-expected.png`, selection });
}
// An earlier pick's images (another case may have other entity slots) would ship unused.
for (const f of readdirSync(DIR)) if (f.endsWith('.png') && !written.has(f)) rmSync(join(DIR, f));
writeTextFileAtomic(join(DIR, 'demo.json'), `${JSON.stringify({ seed: SEED, ...(values.model ? { model: values.model } : {}), examples: demo }, null, 2)}\n`);
console.log(JSON.stringify(demo, null, 2));
