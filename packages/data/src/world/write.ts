import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { writeImage } from '@mige/core';
import type { MigeRecord } from '../format/types.js';
import { writeTextAtomic } from '../format/write-dataset.js';
import type { ExampleAnnotations, WorldExample, WorldTask } from './types.js';

/** One line of the written manifest: a MIGE record plus the world task that made it. */
export type WorldRecord = MigeRecord & { task: WorldTask };

export interface WriteResult {
  count: number;
  manifest: string;
  annotations: string;
}


/**
 * Writes each example's images as PNGs under `images/`, then `manifest.jsonl` (MIGE records)
 * and `annotations.jsonl` (ground truth, same line order). Every file is written atomically.
 */
export async function writeDataset(dir: string, examples: Iterable<WorldExample>): Promise<WriteResult> {
  await mkdir(join(dir, 'images'), { recursive: true });
  const records: string[] = [];
  const annotations: string[] = [];
  let i = 0;
  for (const ex of examples) {
    const id = String(i).padStart(6, '0');
    const image = `images/${id}_target.png`;
    await writeImage(join(dir, image), ex.target);
    const entityPaths: string[] = [];
    let sourcePath = '';
    for (let k = 0; k < ex.entities.length; k++) {
      const ent = ex.entities[k];
      // The source appears as an entity too; write it once and point both fields at it.
      if (ent && ent === ex.source) {
        sourcePath = `images/${id}_source.png`;
        entityPaths.push(sourcePath);
        await writeImage(join(dir, sourcePath), ent);
      } else if (ent) {
        const p = `images/${id}_entity${k}.png`;
        entityPaths.push(p);
        await writeImage(join(dir, p), ent);
      }
    }
    const record: WorldRecord = {
      image, width: ex.target.width, height: ex.target.height, entity_path: entityPaths,
      multi_prompt: ex.instruction, source_path: sourcePath, task: ex.task,
    };
    records.push(JSON.stringify(record));
    const ann: { id: string; task: WorldTask } & ExampleAnnotations = { id, task: ex.task, ...ex.annotations };
    annotations.push(JSON.stringify(ann));
    i++;
  }
  const manifest = join(dir, 'manifest.jsonl');
  const annPath = join(dir, 'annotations.jsonl');
  await writeTextAtomic(annPath, annotations.map((l) => `${l}\n`).join(''));
  await writeTextAtomic(manifest, records.map((l) => `${l}\n`).join(''));
  return { count: i, manifest, annotations: annPath };
}
