import type { RgbImage } from '@mige/core';
import { describe, expect, it } from 'vitest';
import { objectScores } from '../../src/eval/object-metrics.js';
import { generateExample, rleToMask, type WorldExample } from '../../src/world/index.js';

/** The target with one object painted over in a non-palette grey, so it is gone. */
function eraseObject(ex: WorldExample, k: number): RgbImage {
  const out: RgbImage = { ...ex.target, data: ex.target.data.slice() };
  const obj = ex.annotations.target.objects[k];
  if (!obj) throw new Error('no such object');
  rleToMask(obj.mask, out.width * out.height).forEach((v, p) => { if (v) out.data.fill(200, 3 * p, 3 * p + 3); });
  return out;
}

describe('objectScores', () => {
  it('counts a lost other object but not the instructed one', () => {
    let seen = 0;
    for (let i = 0; i < 40 && seen < 5; i++) {
      const ex = generateExample(2, i, { task: 'recolor' });
      const n = ex.annotations.target.objects.length;
      if (n < 2) continue;
      seen++;
      const edited = ex.annotations.edit.object as number;
      const other = edited === 0 ? 1 : 0;
      const s = objectScores(ex, eraseObject(ex, other));
      expect(s.instructed).toBe(1);
      expect(s.othersUnchanged).toBeCloseTo((n - 2) / (n - 1), 12);
      expect(s.subjectPreserved).toBeNull();
      expect(objectScores(ex, eraseObject(ex, edited)).instructed).toBe(0);
    }
    expect(seen).toBe(5);
  });

  it('scores a removed subject as not preserved', () => {
    const ex = generateExample(4, 0, { task: 'compose_add' });
    const s = objectScores(ex, eraseObject(ex, ex.annotations.edit.object as number));
    expect(s.instructed).toBe(0);
    expect(s.subjectPreserved).toBe(0);
    expect(s.othersUnchanged).toBe(1);
  });
});
