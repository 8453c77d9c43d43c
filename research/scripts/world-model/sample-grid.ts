/**
 * A quick look at a model on benchmark cases: a grid of sources (or first subject), outputs and
 * targets, with a chosen sampler and step count (RUNS.md compares samplers with it).
 *
 *   npx tsx ../../research/scripts/world-model/sample-grid.ts --model runs/world/joint/model --out grid.png --steps 100 --sampler '{"type":"ddpm"}' [--counts '{"background":4}']
 */
import { writeImage, type RgbImage } from '@mige/core';
import { benchmarkSplit, imageGrid, splitExamples } from '@mige/data';
import type { GuidanceScales, SamplerConfig } from '../../../packages/pipelines/src/diffusion/index.js';
import { flowEvalModel } from '../../../packages/pipelines/src/flows/index.js';
import { loadModel } from '../../../packages/pipelines/src/model/index.js';
import { args, start } from '../../../packages/pipelines/scripts/world-model/common.js';

const a = args({ model: 'runs/world/joint/model', out: 'grid.png', steps: '20', sampler: '', scales: '{"y":1,"s":1}', counts: '{"recolor":3,"move":3,"subject":2}' });
await start();
const split = benchmarkSplit({ seed: 0, size: 64, counts: JSON.parse(a.counts) as Record<string, number> });
const model = await loadModel(a.model);
const run = flowEvalModel(model, {
  steps: Number(a.steps),
  scales: JSON.parse(a.scales) as GuidanceScales,
  ...(a.sampler ? { sampler: JSON.parse(a.sampler) as SamplerConfig } : {}),
});
const rows: RgbImage[][] = [[], [], []];
for (const ex of splitExamples(split)) {
  rows[0]?.push(ex.source ?? (ex.entities[0] as RgbImage));
  rows[1]?.push(await run(ex));
  rows[2]?.push(ex.target);
  console.log(`${ex.task}: ${ex.instruction}`);
}
await writeImage(a.out, imageGrid(rows));
model.dispose();
