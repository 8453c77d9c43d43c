// Evaluates the two baselines (copy-the-source and the ground truth) on a small benchmark split
// and prints their Markdown tables: `npx tsx scripts/eval-baselines.mjs [seed] [perTask] [outDir]`.
// With outDir, each baseline's report.json / report.md / grid.png go to outDir/<name>.
import { join } from 'node:path';
import { benchmarkSplit, copySourceModel, evaluate, groundTruthModel, reportMarkdown, splitExamples, writeReport } from '../src/eval/index.ts';
import { WORLD_TASKS } from '../src/world/index.ts';

const seed = Number(process.argv[2] ?? 0);
const perTask = Number(process.argv[3] ?? 20);
const outDir = process.argv[4];
const split = benchmarkSplit({ seed, counts: Object.fromEntries(WORLD_TASKS.map((t) => [t, perTask])), size: 64 });
console.log(`split: ${JSON.stringify(split.manifest)}\n`);
for (const [name, model] of [['copy-source', copySourceModel], ['ground-truth', groundTruthModel]]) {
  const { report, samples } = await evaluate({ examples: splitExamples(split), model, name, manifest: split.manifest });
  console.log(`## ${name}\n\n${reportMarkdown(report)}`);
  if (outDir) await writeReport(join(outDir, name), report, samples);
}
