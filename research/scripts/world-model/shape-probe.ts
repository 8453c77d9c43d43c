/**
 * Does the model draw the shape it is asked for? Each add case of the split runs once per world
 * shape, the shape word of its instruction swapped (same source, same seed); prints which shape is
 * detected in the asked colour and region for each asked shape (a confusion matrix: rows alike
 * mean the word is ignored; chance is 1 in 8 on the diagonal), and the mean L2 between the
 * swapped outputs (how much the word changes anything).
 *
 *   npx tsx ../../research/scripts/world-model/shape-probe.ts --model ../model-world --count 12 --seed 1 [--out F]
 */
import { MigeInputError, writeTextFileAtomic, type RgbImage } from '@mige/core';
import { benchmarkSplit, detectObjects, l2Distance, regionName, SHAPE_NAMES, splitExamples, type WorldExample } from '@mige/data';
import type { GuidanceScales } from '../../../packages/pipelines/src/diffusion/index.js';
import { flowEvalModel } from '../../../packages/pipelines/src/flows/index.js';
import { loadModel } from '../../../packages/pipelines/src/model/index.js';
import { args, attachTempOnnx, start } from '../../../packages/pipelines/scripts/world-model/common.js';

const a = args({ model: '../model-world', count: '12', seed: '1', scales: '', out: '' });
for (const k of ['count', 'seed'] as const) {
  if (!/^\d+$/.test(a[k])) throw new MigeInputError(`must be a whole number, got '${a[k]}'`, `--${k}`);
}
await start();
const CANVAS = 64;
const split = benchmarkSplit({ seed: Number(a.seed), size: CANVAS, counts: { add: Number(a.count) } });
const model = await loadModel(a.model);
const detach = await attachTempOnnx(model);
const flow = flowEvalModel(model, { engine: 'onnx', ...(a.scales ? { scales: JSON.parse(a.scales) as GuidanceScales } : {}) });
const shapes = [...SHAPE_NAMES];
const confusion = shapes.map(() => shapes.map(() => 0));
const none = shapes.map(() => 0);
let diffSum = 0, diffN = 0;
// The diagonal by the added object's size (the words' small / medium / large: < 25%, > 30% of the canvas).
const bySize: Record<string, [number, number]> = { small: [0, 0], medium: [0, 0], large: [0, 0] };
const sizeOf = (px: number) => (px < CANVAS * 0.25 ? 'small' : px > CANVAS * 0.3 ? 'large' : 'medium');
const region = (b: readonly number[]) => regionName(b[0]! + b[2]! / 2, b[1]! + b[3]! / 2, CANVAS, CANVAS);
for (const ex of splitExamples(split) as Iterable<WorldExample>) {
  const idx = ex.annotations.edit.object as number;
  const ann = ex.annotations.target.objects[idx]!;
  const re = new RegExp(`\\b${ann.shape}\\b`);
  if (!re.test(ex.instruction)) continue;
  const outs: RgbImage[] = [];
  // Shapes are distinct within a scene, so the word names the added object and nothing else.
  for (const [si, s] of shapes.entries()) {
    const out = await flow({ ...ex, instruction: ex.instruction.replace(re, s) });
    outs.push(out);
    const d = detectObjects(out).find((o) => o.color === ann.color && region(o.bbox) === region(ann.bbox));
    if (d) confusion[si]![shapes.indexOf(d.shape)]!++; else none[si]!++;
    const tally = bySize[sizeOf(ann.size)]!;
    tally[1]++;
    if (d?.shape === s) tally[0]++;
  }
  for (let i = 0; i < outs.length; i++) for (let j = i + 1; j < outs.length; j++) {
    diffSum += l2Distance(outs[i]!, outs[j]!);
    diffN++;
  }
}
const lines = [`asked \\ detected (${a.model}, add, split seed ${a.seed}): ${shapes.join(' ')} none`];
for (const [i, s] of shapes.entries()) lines.push(`${s.padEnd(9)} ${confusion[i]!.map((v) => String(v).padStart(3)).join(' ')}   ${none[i]}`);
const diag = confusion.reduce((acc, row, i) => acc + row[i]!, 0), total = confusion.flat().reduce((p, q) => p + q, 0) + none.reduce((p, q) => p + q, 0);
// What the diagonal would hold if the detected shape ignored the asked one: each column's share.
const expected = shapes.reduce((acc, _, j) => acc + confusion.reduce((c, row) => c + row[j]!, 0) / shapes.length, 0);
lines.push(`by size, right of asked: ${Object.entries(bySize).map(([k, [r, n]]) => `${k} ${r}/${n}`).join(', ')}`);
lines.push(`right shape ${diag} of ${total} (${expected.toFixed(1)} if the word were ignored); mean pairwise L2 between shape-swapped outputs ${(diffSum / diffN).toFixed(5)}`);
console.log(lines.join('\n'));
if (a.out) writeTextFileAtomic(a.out, lines.join('\n') + '\n');
await detach();
model.dispose();
