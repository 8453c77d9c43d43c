/**
 * The README's main job: one subject-driven generation, one edit and one compositional edit with
 * the shipped default model, on the inputs in demo/. Writes demo-output/{generate,edit,compose}.png
 * (+ parameter sidecars) and demo-output/grid.png (inputs | result | what the world says).
 *
 *   node packages/pipelines/scripts/demo.mjs [out-dir]
 */
import { mkdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { decodeImage, getBackendInfo, initBackend, writeImage, writeTextFileAtomic } from '@mige/core';
import { imageGrid } from '@mige/data';
import { compose, edit, generate, loadDefaultModel } from '../dist/index.js';

const started = performance.now();
const demoDir = new URL('../demo/', import.meta.url).pathname;
const out = resolve(process.argv[2] ?? 'demo-output');
mkdirSync(out, { recursive: true });
await initBackend({ log: null });
const model = await loadDefaultModel();
const { examples } = JSON.parse(await readFile(join(demoDir, 'demo.json'), 'utf8'));
const load = (f) => decodeImage(join(demoDir, f));
const rows = [];
for (const ex of examples) {
  const t0 = performance.now();
  const entities = await Promise.all(ex.entities.map(load));
  const source = ex.source ? await load(ex.source) : null;
  let result;
  if (ex.flow === 'generate') result = await generate(model, { instruction: ex.instruction, images: entities }, { seed: 0 });
  else if (ex.flow === 'edit') result = await edit(model, { instruction: ex.instruction, source }, { seed: 0 });
  else {
    const slot = ex.entities.indexOf(ex.source);
    const subjects = entities.filter((_, i) => i !== slot);
    result = await compose(model, { instruction: ex.instruction, source, subjects, ...(slot >= 0 ? { sourceSlot: slot } : {}) }, { seed: 0 });
  }
  result.tensor.dispose();
  const [image] = result.images;
  await writeImage(join(out, `${ex.flow}.png`), image.image);
  writeTextFileAtomic(join(out, `${ex.flow}.json`), `${JSON.stringify(image.params, null, 2)}\n`);
  rows.push([...(source && !ex.entities.includes(ex.source) ? [source] : []), ...entities, image.image, await load(ex.expected)]);
  console.log(`${ex.flow.padEnd(8)} "${ex.instruction}" → ${join(out, `${ex.flow}.png`)} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  // Say how the example was picked, so one good output is not read as the model's success rate.
  const sel = ex.selection;
  if (sel?.scanned) console.log(`         (world case ${sel.index}: the first the model carries out; it does ${sel.carriedOut} of the first ${sel.scanned} ${ex.task} cases)`);
}
await writeImage(join(out, 'grid.png'), imageGrid(rows, 2));
model.dispose();
console.log(`grid (inputs | result | expected) → ${join(out, 'grid.png')}`);
console.log(`done in ${((performance.now() - started) / 1000).toFixed(1)} s on ${getBackendInfo()?.name}`);
