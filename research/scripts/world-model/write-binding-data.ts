/**
 * A training set for the binding lever (issue 45): the world's usual examples, with a share of
 * them replaced by binding cases (binding-cases.ts: two-object scenes, either object named, half
 * of the scenes in one colour so that only the shape word tells the objects apart) drawn from a
 * seed of their own, never the evaluation's (binding.ts uses seed 0 by default).
 *
 *   npx tsx ../../research/scripts/world-model/write-binding-data.ts --out DIR --count 48000 --share 0.3
 *
 * `--share 0` writes the control: the same usual examples, nothing replaced. The usual examples'
 * tasks are drawn as the recipe's --world-tasks (add, move, resize twice, background half); train
 * on `DIR/manifest.jsonl` with `mige train --data` and the recipe's --ratios.
 */
import { MigeInputError, Rng } from '@mige/core';
import { generateExample, writeDataset, type WorldExample } from '@mige/data';
import { BINDING_TASKS, bindingCases } from '../../../packages/pipelines/scripts/world-model/binding-cases.js';
import { args } from '../../../packages/pipelines/scripts/world-model/common.js';

const a = args({ out: '', count: '48000', share: '0.3', seed: '91000', 'binding-seed': '1000', size: '64' });
if (!a.out) throw new MigeInputError('is required', '--out');
for (const k of ['count', 'seed', 'binding-seed', 'size'] as const) {
  if (!/^\d+$/.test(a[k])) throw new MigeInputError(`must be a whole number, got '${a[k]}'`, `--${k}`);
}
const share = Number(a.share);
if (!(share >= 0 && share <= 1)) throw new MigeInputError(`must be a chance in [0, 1], got '${a.share}'`, '--share');
const count = Number(a.count), size = Number(a.size);
const taskRatios = { subject: 1, recolor: 1, remove: 1, add: 2, move: 2, resize: 2, background: 0.5, compose_add: 1, compose_replace: 1 };

// The binding cases, in pairs per task; taken in turn over the tasks (both cases of a pair together).
const perTask = Math.ceil((count * share) / BINDING_TASKS.length / 2) + 1;
const pairs = bindingCases(Number(a['binding-seed']), perTask, BINDING_TASKS, size);
const binding: WorldExample[] = [];
for (let i = 0; i < perTask; i++) for (const t of BINDING_TASKS) binding.push(...(pairs.get(t)?.[i] ?? []));

function* examples(): Generator<WorldExample> {
  const rng = new Rng(`binding-data/${a.seed}`);
  let next = 0;
  for (let i = 0; i < count; i++) {
    if (share > 0 && rng.uniform() < share && next < binding.length) yield binding[next++] as WorldExample;
    else yield generateExample(Number(a.seed), i, { size, taskRatios });
  }
}

const t0 = Date.now();
const r = await writeDataset(a.out, examples());
console.log(`${r.count} examples (share ${share}) in ${((Date.now() - t0) / 1000).toFixed(0)} s: ${r.manifest}`);
