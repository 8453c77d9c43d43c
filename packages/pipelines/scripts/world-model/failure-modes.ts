/**
 * Why object edits fail: for each benchmark case of the object tasks, what the output holds where
 * `instructed` (see @mige/data's objectScores) looks for the edited object. Counts per task:
 *   right          instructed passes
 *   wrong size     (resize) right shape, colour and region, size off by more than ±20%
 *   not moved      (move) right shape and colour, still in the source's region
 *   wrong place    right shape and colour, another region
 *   wrong shape    an object of the right colour in the right region, another shape
 *   colour astray  an object of the right colour only elsewhere, another shape
 *   absent         no object of the asked colour at all
 *
 *   npx tsx scripts/world-model/failure-modes.ts --model models/mige-world --tasks add,move,resize --count 40 [--seed 1] [--verbose true]
 */
import { MigeInputError, type RgbImage } from '@mige/core';
import { benchmarkSplit, detectObjects, objectScores, regionName, splitExamples, WORLD_TASKS, type ObjectAnnotation, type WorldExample, type WorldTask } from '@mige/data';
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
const regionOf = (b: readonly number[], img: RgbImage) => regionName((b[0] as number) + (b[2] as number) / 2, (b[1] as number) + (b[3] as number) / 2, img.width, img.height);

function failure(ex: WorldExample, out: RgbImage): string {
  if (objectScores(ex, out).instructed === 1) return 'right';
  const idx = ex.annotations.edit.object as number;
  const want = ex.annotations.target.objects[idx] as ObjectAnnotation;
  const found = detectObjects(out);
  const region = regionOf(want.bbox, out);
  const same = found.find((d) => d.shape === want.shape && d.color === want.color);
  if (same) {
    const at = regionOf(same.bbox, out);
    if (at === region) return 'wrong size';
    const from = ex.annotations.source?.objects[idx];
    return ex.task === 'move' && from && at === regionOf(from.bbox, out) ? 'not moved' : 'wrong place';
  }
  const coloured = found.filter((d) => d.color === want.color);
  const there = coloured.find((d) => regionOf(d.bbox, out) === region);
  if (there) {
    // What came out instead, next to what the source had in that box (a replace that only recolours).
    if (a.verbose === 'true') console.log(`${ex.task}: asked ${want.shape}, got ${there.shape} (iou ${there.iou.toFixed(2)}), source had ${ex.annotations.source?.objects[idx]?.shape ?? '-'}`);
    return 'wrong shape';
  }
  return coloured.length ? 'colour astray' : 'absent';
}

const KINDS = ['right', 'wrong size', 'not moved', 'wrong place', 'wrong shape', 'colour astray', 'absent'];
const split = benchmarkSplit({ seed: Number(a.seed), size: 64, counts: Object.fromEntries(tasks.map((t) => [t, Number(a.count)])) });
const counts = new Map<string, Map<string, number>>();
for (const ex of splitExamples(split)) {
  const kind = failure(ex, await run(ex));
  const row = counts.get(ex.task) ?? new Map<string, number>();
  row.set(kind, (row.get(kind) ?? 0) + 1);
  counts.set(ex.task, row);
}
await detach();
console.log(`| task | ${KINDS.join(' | ')} |\n| --- |${KINDS.map(() => ' --- |').join('')}`);
for (const [task, row] of counts) console.log(`| ${task} | ${KINDS.map((k) => row.get(k) ?? 0).join(' | ')} |`);
