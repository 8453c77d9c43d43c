/**
 * Why object edits fail: for each benchmark case of the tasks that place one object, what the
 * output holds where `instructed` looks (@mige/data's objectFailure: right, wrong-size, not-moved,
 * wrong-place, wrong-shape, colour-astray, absent), counted per task.
 *
 *   npx tsx scripts/world-model/failure-modes.ts --model models/mige-world --tasks add,move,resize --count 40 [--seed 1] [--verbose true]
 */
import { MigeInputError, type RgbImage } from '@mige/core';
import { benchmarkSplit, detectObjects, objectFailure, OBJECT_FAILURES, splitExamples, WORLD_TASKS, type ObjectFailure, type WorldExample, type WorldTask } from '@mige/data';
import { flowEvalModel } from '../../src/flows/index.js';
import { loadModel } from '../../src/model/index.js';
import { args, attachTempOnnx, start } from './common.js';

const a = args({ model: 'models/mige-world', tasks: 'add,move,resize,recolor,compose_add,compose_replace', count: '40', seed: '1', verbose: 'false' });
const tasks = a.tasks.split(',').filter(Boolean) as WorldTask[];
for (const t of tasks) {
  if (!WORLD_TASKS.includes(t) || t === 'subject' || t === 'remove' || t === 'background') {
    throw new MigeInputError(`'${t}' is not an object task (add, move, resize, recolor, compose_add, compose_replace)`, '--tasks');
  }
}
await start();
const model = await loadModel(a.model);
const detach = await attachTempOnnx(model);
const run = flowEvalModel(model);
/** The objectFailure kind; with --verbose, what a wrong shape was read as, next to the source's object there. */
function failure(ex: WorldExample, out: RgbImage): ObjectFailure {
  const kind = objectFailure(ex, out) as ObjectFailure;
  if (kind === 'wrong-shape' && a.verbose === 'true') {
    const idx = ex.annotations.edit.object as number;
    const want = ex.annotations.target.objects[idx];
    const got = detectObjects(out).filter((d) => d.color === want?.color).map((d) => `${d.shape} (iou ${d.iou.toFixed(2)})`);
    console.log(`${ex.task}: asked ${want?.shape}, got ${got.join(', ')}; source had ${ex.annotations.source?.objects[idx]?.shape ?? '-'}`);
  }
  return kind;
}

const split = benchmarkSplit({ seed: Number(a.seed), size: 64, counts: Object.fromEntries(tasks.map((t) => [t, Number(a.count)])) });
const counts = new Map<string, Map<ObjectFailure, number>>();
for (const ex of splitExamples(split)) {
  const kind = failure(ex, await run(ex));
  const row = counts.get(ex.task) ?? new Map<ObjectFailure, number>();
  row.set(kind, (row.get(kind) ?? 0) + 1);
  counts.set(ex.task, row);
}
await detach();
console.log(`| task | ${OBJECT_FAILURES.join(' | ')} |\n| --- |${OBJECT_FAILURES.map(() => ' --- |').join('')}`);
for (const [task, row] of counts) console.log(`| ${task} | ${OBJECT_FAILURES.map((k) => row.get(k) ?? 0).join(' | ')} |`);
