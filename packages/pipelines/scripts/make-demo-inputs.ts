/**
 * Writes the demo's inputs (demo/*.png + demo/demo.json) from the synthetic world: one subject-
 * driven generation, one edit and one compositional edit, at the default model's 64 px.
 *
 *   npx tsx scripts/make-demo-inputs.ts
 */
import { join } from 'node:path';
import { writeImage, writeTextFileAtomic } from '@mige/core';
import { generateExample, type WorldTask } from '@mige/data';

const DIR = new URL('../demo/', import.meta.url).pathname;
const SEED = 424242;
const picks: { name: string; task: WorldTask; index: number }[] = [
  { name: 'generate', task: 'subject', index: 0 },
  { name: 'edit', task: 'background', index: 0 },
  { name: 'compose', task: 'compose_replace', index: 0 },
];
const demo: Record<string, unknown>[] = [];
for (const p of picks) {
  const ex = generateExample(SEED, p.index, { task: p.task, size: 64 });
  const entities: string[] = [];
  for (let k = 0; k < ex.entities.length; k++) {
    const img = ex.entities[k];
    if (!img) continue;
    const file = img === ex.source ? `${p.name}-source.png` : `${p.name}-subject${k}.png`;
    await writeImage(join(DIR, file), img);
    entities.push(file);
  }
  if (ex.source && !ex.entities.includes(ex.source)) await writeImage(join(DIR, `${p.name}-source.png`), ex.source);
  await writeImage(join(DIR, `${p.name}-expected.png`), ex.target);
  demo.push({ flow: p.name, task: p.task, instruction: ex.instruction, entities, source: ex.source ? `${p.name}-source.png` : null, expected: `${p.name}-expected.png` });
}
writeTextFileAtomic(join(DIR, 'demo.json'), `${JSON.stringify({ seed: SEED, examples: demo }, null, 2)}\n`);
console.log(JSON.stringify(demo, null, 2));
