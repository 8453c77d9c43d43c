import { writeImage, type RgbImage } from '@mige/core';
import { benchmarkSplit, splitExamples, imageGrid } from '@mige/data';
import { flowEvalModel } from '../../src/flows/index.js';
import { loadModel } from '../../src/model/index.js';
import { start } from './common.js';
await start();
const dir = process.argv[2] as string;
const split = benchmarkSplit({ seed: 0, size: 64, counts: { recolor: 3, move: 3, subject: 2 } });
const model = await loadModel(dir);
const run = flowEvalModel(model, { steps: Number(process.argv[4] ?? 20), scales: { y: 1, s: 1 }, ...(process.argv[5] ? { sampler: JSON.parse(process.argv[5]) } : {}) });
const rows: RgbImage[][] = [[], [], []];
for (const ex of splitExamples(split)) {
  rows[0]!.push(ex.source ?? ex.entities[0]!);
  rows[1]!.push(await run(ex));
  rows[2]!.push(ex.target);
  console.log(ex.task, ex.instruction);
}
await writeImage(process.argv[3] as string, imageGrid(rows));
