/**
 * Does the model still draw its subjects when the conditional input holds an image? Each subject
 * case of the split runs four ways, and `instructed` is tallied for each:
 * - as-is: subject generation (zero condition);
 * - cond: its background alone (no objects) as the source, in the conditional input only;
 * - y: that background as one more instruction image ("in <imagehere>, ..."), zero condition;
 * - both: the background in the conditional input and the instruction (a compositional add).
 * The background is what the target shows wherever no subject is, so copying it is right there.
 *
 *   npx tsx ../../research/scripts/world-model/source-probe.ts --model ../model-world --count 40 --seed 1 [--out F]
 */
import { MigeInputError, writeTextFileAtomic, type RgbImage } from '@mige/core';
import { benchmarkSplit, objectScores, renderScene, splitExamples, type WorldExample } from '@mige/data';
import { flowEvalModel } from '../../../packages/pipelines/src/flows/index.js';
import { loadModel, samplingDefaults } from '../../../packages/pipelines/src/model/index.js';
import { args, attachTempOnnx, start } from '../../../packages/pipelines/scripts/world-model/common.js';

const a = args({ model: '../model-world', count: '40', seed: '1', out: '' });
for (const k of ['count', 'seed'] as const) {
  if (!/^\d+$/.test(a[k])) throw new MigeInputError(`must be a whole number, got '${a[k]}'`, `--${k}`);
}
await start();
const split = benchmarkSplit({ seed: Number(a.seed), size: 64, counts: { subject: Number(a.count) } });
const model = await loadModel(a.model);
const detach = await attachTempOnnx(model);
// The generation flow's sampler and scales for every form, so that only the source differs.
const gen = samplingDefaults(model).generate;
const flow = flowEvalModel(model, { engine: 'onnx', ...(gen?.sampler ? { sampler: gen.sampler } : {}), ...(gen?.scales ? { scales: { s: 1.5, ...gen.scales } } : {}) });

function background(ex: WorldExample): RgbImage {
  const { width, height } = ex.target;
  return renderScene({ width, height, background: ex.annotations.target.background, objects: [] }).image;
}
// flowEvalModel runs a compose_add with a source as a compositional add (the source in the
// instruction when it is among the entities), and a case without one as generation.
const FORMS: Record<string, (ex: WorldExample, bg: RgbImage) => WorldExample> = {
  'as-is': (ex) => ex,
  cond: (ex, bg) => ({ ...ex, task: 'compose_add', source: bg }),
  y: (ex, bg) => ({ ...ex, instruction: `in <imagehere>, ${ex.instruction}`, entities: [bg, ...ex.entities] }),
  both: (ex, bg) => ({ ...ex, task: 'compose_add', source: bg, instruction: `in <imagehere>, ${ex.instruction}`, entities: [bg, ...ex.entities] }),
};
const sums: Record<string, number> = Object.fromEntries(Object.keys(FORMS).map((k) => [k, 0]));
let n = 0;
for (const ex of splitExamples(split)) {
  const bg = background(ex);
  for (const [form, make] of Object.entries(FORMS)) sums[form]! += objectScores(ex, await flow(make(ex, bg))).instructed;
  n++;
}
const lines = [`subject instructed by where its background is given (${a.model}, split seed ${a.seed}, ${n} cases):`];
for (const [form, s] of Object.entries(sums)) lines.push(`${form.padEnd(6)} ${(s / n).toFixed(3)}`);
console.log(lines.join('\n'));
if (a.out) writeTextFileAtomic(a.out, lines.join('\n') + '\n');
await detach();
model.dispose();
