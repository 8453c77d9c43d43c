import type { RgbImage } from '@mige/core';
import { describe, expect, it } from 'vitest';
import { objectFailure } from '../../src/eval/object-metrics.js';
import { regionName } from '../../src/world/scene.js';
import { drawObject, generateExample, rleToMask, type WorldExample, type WorldTask } from '../../src/world/index.js';

const PLACING: WorldTask[] = ['recolor', 'add', 'move', 'resize', 'compose_add', 'compose_replace'];
const copy = (img: RgbImage): RgbImage => ({ ...img, data: img.data.slice() });
const edited = (ex: WorldExample) => ex.annotations.target.objects[ex.annotations.edit.object as number]!;
const regionOf = (b: readonly number[]) => regionName(b[0]! + b[2]! / 2, b[1]! + b[3]! / 2, 64, 64);
/** Whether another target object has the edited object's colour (the detector would find it). */
const colourShared = (ex: WorldExample) =>
  ex.annotations.target.objects.some((o, i) => i !== ex.annotations.edit.object && o.color === edited(ex).color);

/** The target with the edited object painted over in a pale grey (background to the detector). */
function erased(ex: WorldExample): RgbImage {
  const out = copy(ex.target);
  rleToMask(edited(ex).mask, 64 * 64).forEach((v, p) => { if (v) out.data.fill(200, 3 * p, 3 * p + 3); });
  return out;
}

describe('objectFailure', () => {
  it('is null for tasks that place no single object', () => {
    for (const task of ['subject', 'remove', 'background'] as const) {
      const ex = generateExample(5, 0, { task });
      expect(objectFailure(ex, ex.target)).toBeNull();
    }
  });

  for (const task of PLACING) {
    it(`reads the target as right, and the edited object erased as absent: ${task}`, () => {
      let absent = 0;
      for (let i = 0; i < 10; i++) {
        const ex = generateExample(31, i, { task });
        expect(objectFailure(ex, ex.target)).toBe('right');
        if (colourShared(ex)) continue;
        expect(objectFailure(ex, erased(ex))).toBe('absent');
        absent++;
      }
      expect(absent).toBeGreaterThanOrEqual(5);
    });
  }

  it('reads another shape of the asked colour in the asked box as wrong-shape', () => {
    let seen = 0;
    for (let i = 0; i < 20 && seen < 6; i++) {
      const ex = generateExample(32, i, { task: 'add' });
      const want = edited(ex);
      if (colourShared(ex)) continue;
      const out = erased(ex);
      const [bx, by, bw, bh] = want.bbox;
      // A solid square the size of the object's box, centred where the object was.
      const x = Math.round(bx + bw / 2 - want.size / 2), y = Math.round(by + bh / 2 - want.size / 2);
      drawObject(out, { shape: want.shape === 'square' ? 'circle' : 'square', color: want.color, pattern: 'solid', size: want.size, x, y });
      expect(objectFailure(ex, out)).toBe('wrong-shape');
      seen++;
    }
    expect(seen).toBe(6);
  });

  it('reads the source of a move as not-moved and of a resize as wrong-size', () => {
    const counts = { 'not-moved': 0, 'wrong-size': 0 };
    for (let i = 0; i < 20; i++) {
      const mv = generateExample(33, i, { task: 'move' });
      expect(objectFailure(mv, mv.source!)).toBe('not-moved');
      counts['not-moved']++;
      const rs = generateExample(33, i, { task: 'resize' });
      const from = rs.annotations.source!.objects[rs.annotations.edit.object as number]!;
      // A resize that keeps the object's region leaves only its size wrong.
      if (regionOf(from.bbox) !== regionOf(edited(rs).bbox)) continue;
      expect(objectFailure(rs, rs.source!)).toBe('wrong-size');
      counts['wrong-size']++;
    }
    expect(counts['wrong-size']).toBeGreaterThanOrEqual(5);
  });
});
