/**
 * Where a model's edit error lies: each case's L2 (the benchmark's, mean over all pixels) split
 * into the part inside the changed region (pixels where target and source differ, dilated by
 * --dilate px) and the part outside it, for the model and for copy-source (whose error is all
 * inside). Tells "the edit itself is wrong" from "the model disturbs what it should keep".
 *
 *   npx tsx ../../research/scripts/world-model/error-regions.ts --model ../model-world --tasks add,compose_add,compose_replace --count 40 [--steps 50] [--scales '{"y":1,"s":1}']
 *
 * --train-seed 3000 scores the first --count cases per task of the training set (`mige train
 * --world-seed 3000`) instead of a benchmark split: a model that memorised its training data
 * scores much better there than on the benchmark.
 */
import type { RgbImage } from '@mige/core';
import { benchmarkSplit, splitExamples, streamExamples, type WorldExample } from '@mige/data';
import type { GuidanceScales } from '../../../packages/pipelines/src/diffusion/index.js';
import { flowEvalModel } from '../../../packages/pipelines/src/flows/index.js';
import { loadModel } from '../../../packages/pipelines/src/model/index.js';
import { args, attachTempOnnx, start } from '../../../packages/pipelines/scripts/world-model/common.js';

const a = args({ model: '../model-world', tasks: 'add,compose_add,compose_replace', count: '40', seed: '0', dilate: '2', steps: '', scales: '', 'train-seed': '' });
await start();
const tasks = a.tasks.split(',');
const count = Number(a.count);

/** The first `count` training examples (dataset `seed`, as `mige train --world-seed`) of each task. */
function* trainingExamples(seed: number): Generator<WorldExample> {
  const seen = new Map<string, number>();
  for (const ex of streamExamples({ seed, count: 1_000_000, size: 64 })) {
    const n = seen.get(ex.task) ?? 0;
    if (!tasks.includes(ex.task) || n >= count) continue;
    seen.set(ex.task, n + 1);
    yield ex;
    if (tasks.every((t) => (seen.get(t) ?? 0) >= count)) return;
  }
}
const examples = a['train-seed']
  ? trainingExamples(Number(a['train-seed']))
  : splitExamples(benchmarkSplit({ seed: Number(a.seed), size: 64, counts: Object.fromEntries(tasks.map((t) => [t, count])) }));

/** 1 where any channel of target and source differ, grown by `grow` px (Chebyshev). */
function changedMask(target: RgbImage, source: RgbImage, grow: number): Uint8Array {
  const { width: w, height: h } = target;
  const base = new Uint8Array(w * h);
  for (let p = 0; p < w * h; p++) {
    for (let c = 0; c < 3; c++) if (target.data[p * 3 + c] !== source.data[p * 3 + c]) base[p] = 1;
  }
  const mask = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (!base[y * w + x]) continue;
      for (let yy = Math.max(0, y - grow); yy <= Math.min(h - 1, y + grow); yy++) {
        for (let xx = Math.max(0, x - grow); xx <= Math.min(w - 1, x + grow); xx++) mask[yy * w + xx] = 1;
      }
    }
  }
  return mask;
}

/** [inside, outside]: squared error sums over the mask and its complement, each / all values. */
function splitL2(out: RgbImage, target: RgbImage, mask: Uint8Array): [number, number] {
  const sums: [number, number] = [0, 0];
  for (let k = 0; k < out.data.length; k++) {
    const d = ((out.data[k] as number) - (target.data[k] as number)) / 255;
    sums[mask[Math.floor(k / 3)] ? 0 : 1] += d * d;
  }
  return [sums[0] / out.data.length, sums[1] / out.data.length];
}

const model = await loadModel(a.model);
const detach = await attachTempOnnx(model);
// --steps 50, --scales '{"y":1,"s":1}': override the model's sampling.json.
const flow = flowEvalModel(model, { engine: 'onnx', ...(a.steps ? { steps: Number(a.steps) } : {}), ...(a.scales ? { scales: JSON.parse(a.scales) as GuidanceScales } : {}) });
const totals = new Map<string, { n: number; area: number; modelIn: number; modelOut: number; copy: number }>();
for (const ex of examples) {
  if (!ex.source) continue;
  const mask = changedMask(ex.target, ex.source, Number(a.dilate));
  const [modelIn, modelOut] = splitL2(await flow(ex), ex.target, mask);
  const t = totals.get(ex.task) ?? { n: 0, area: 0, modelIn: 0, modelOut: 0, copy: 0 };
  t.n++;
  t.area += mask.reduce((p, v) => p + v, 0) / mask.length;
  t.modelIn += modelIn;
  t.modelOut += modelOut;
  t.copy += splitL2(ex.source, ex.target, mask)[0];
  totals.set(ex.task, t);
}
await detach();
model.dispose();
console.log(`| task | changed area | copy-source L2 | model L2 inside | model L2 outside | model L2 |`);
console.log(`| --- | --- | --- | --- | --- | --- |`);
for (const [task, t] of totals) {
  const m = (v: number) => (v / t.n).toFixed(4);
  console.log(`| ${task} | ${(t.area / t.n).toFixed(3)} | ${m(t.copy)} | ${m(t.modelIn)} | ${m(t.modelOut)} | ${m(t.modelIn + t.modelOut)} |`);
}
