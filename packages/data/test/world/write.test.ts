import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeImage } from '@mige/core';
import { countPlaceholders } from '../../src/format/index.js';
import { generateExample, streamExamples, writeDataset, type WorldRecord } from '../../src/world/index.js';

describe('writeDataset', () => {
  it('writes PNGs, a MIGE manifest and annotations that read back exactly', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mige-world-'));
    try {
      const result = await writeDataset(dir, streamExamples({ seed: 4, count: 9, size: 32, taskRatios: { subject: 1, compose_add: 1, recolor: 1 } }));
      expect(result.count).toBe(9);
      const records = (await readFile(result.manifest, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as WorldRecord);
      const anns = (await readFile(result.annotations, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { task: string });
      expect(records.length).toBe(9);
      expect(anns.map((a) => a.task)).toEqual(records.map((r) => r.task));
      for (const [i, r] of records.entries()) {
        const e = generateExample(4, i, { size: 32, taskRatios: { subject: 1, compose_add: 1, recolor: 1 } });
        expect(r.multi_prompt).toBe(e.instruction);
        expect(countPlaceholders(r.multi_prompt)).toBe(r.entity_path.length);
        expect([r.width, r.height]).toEqual([32, 32]);
        if (r.task === 'subject') expect(r.source_path).toBe('');
        else expect(r.entity_path).toContain(r.source_path);
        const target = await decodeImage(join(dir, r.image));
        expect(Buffer.from(target.data).equals(Buffer.from(e.target.data))).toBe(true);
        const first = await decodeImage(join(dir, r.entity_path[0] as string));
        expect(Buffer.from(first.data).equals(Buffer.from(e.entities[0]!.data))).toBe(true);
      }
      // Atomic writes leave no temporary files behind.
      expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
