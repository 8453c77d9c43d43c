import { describe, expect, it } from 'vitest';
import type { RgbImage } from '@mige/core';
import { countPlaceholders } from '../../src/format/index.js';
import {
  colorRgb, exampleTask, generateExample, renderScene, shadeRgb, type ColorName, type SceneAnnotation, type WorldExample, type WorldObject, type WorldTask,
} from '../../src/world/index.js';
import { maskOf, px, subjectMismatches } from './helpers.js';

const N = 25;

function examples(task: WorldTask, size = 64): WorldExample[] {
  return Array.from({ length: N }, (_, i) => generateExample(21, i, { task, size }));
}

function same(a: RgbImage, b: RgbImage, k: number): boolean {
  return a.data[3 * k] === b.data[3 * k] && a.data[3 * k + 1] === b.data[3 * k + 1] && a.data[3 * k + 2] === b.data[3 * k + 2];
}

function isColour(img: RgbImage, k: number, c: ColorName): boolean {
  const p = px(img, k % img.width, Math.floor(k / img.width));
  return [colorRgb(c), shadeRgb(c)].some((q) => q[0] === p[0] && q[1] === p[1] && q[2] === p[2]);
}

/** The target's background alone, drawn from its annotation. */
function backgroundOf(ann: SceneAnnotation, img: RgbImage): RgbImage {
  return renderScene({ width: img.width, height: img.height, background: ann.background, objects: [] }).image;
}

function edited(e: WorldExample): number {
  return e.annotations.edit.object as number;
}

describe('world task invariants', () => {
  it('annotations agree with pixels for every task', () => {
    for (const task of ['subject', 'recolor', 'add', 'compose_add', 'compose_replace'] as const) {
      for (const e of examples(task, 48)) {
        for (const [ann, img] of [[e.annotations.target, e.target], [e.annotations.source, e.source]] as const) {
          if (!ann || !img) continue;
          for (const o of ann.objects) {
            const mask = maskOf(o, img);
            const [x, y, w, h] = o.bbox;
            expect(o.area).toBeGreaterThan(0);
            expect(x + w).toBeLessThanOrEqual(img.width);
            expect(y + h).toBeLessThanOrEqual(img.height);
            let area = 0, bad = 0;
            for (let k = 0; k < mask.length; k++) {
              if (!mask[k]) continue;
              area++;
              const mx = k % img.width, my = Math.floor(k / img.width);
              if (!(mx >= x && mx < x + w && my >= y && my < y + h) || !isColour(img, k, o.color)) bad++;
            }
            expect(bad).toBe(0);
            expect(area).toBe(o.area);
          }
        }
      }
    }
  });

  it('recolour changes only the object, to the new colour, inside its mask', () => {
    for (const e of examples('recolor')) {
      const src = e.source as RgbImage;
      const o = e.annotations.target.objects[edited(e)];
      const mask = maskOf(o!, e.target);
      expect(e.annotations.target.objects[edited(e)]?.color).toBe(e.annotations.edit.to);
      expect(e.instruction).toContain(String(e.annotations.edit.to));
      let bad = 0;
      for (let k = 0; k < mask.length; k++) {
        const ok = mask[k]
          ? !same(src, e.target, k) && isColour(e.target, k, e.annotations.edit.to as ColorName) && isColour(src, k, e.annotations.edit.from as ColorName)
          : same(src, e.target, k);
        if (!ok) bad++;
      }
      expect(bad).toBe(0);
    }
  });

  it('remove leaves the background where the object was', () => {
    for (const e of examples('remove')) {
      const src = e.source as RgbImage;
      const removed = e.annotations.source?.objects[edited(e)];
      expect(e.instruction).toContain(removed!.shape);
      const mask = maskOf(removed!, src);
      const bg = backgroundOf(e.annotations.target, e.target);
      expect(e.annotations.target.objects.length).toBe(e.annotations.source!.objects.length - 1);
      let bad = 0;
      for (let k = 0; k < mask.length; k++) if (!same(e.target, mask[k] ? bg : src, k)) bad++;
      expect(bad).toBe(0);
    }
  });

  it('add draws the described object in the stated region, over background only', () => {
    for (const e of examples('add')) {
      const o = e.annotations.target.objects[edited(e)]!;
      expect(e.instruction).toContain(`${o.color} `);
      expect(e.instruction).toContain(o.shape);
      const mask = maskOf(o, e.target);
      const bg = backgroundOf(e.annotations.source!, e.target);
      let bad = 0;
      for (let k = 0; k < mask.length; k++) {
        if (same(e.target, e.source as RgbImage, k) === Boolean(mask[k])) bad++;
        if (mask[k] && !same(e.source as RgbImage, bg, k)) bad++;
      }
      expect(bad).toBe(0);
      const region = String(e.annotations.edit.region);
      expect(e.instruction).toContain(region);
      const [x, y, w, h] = o.bbox;
      const cx = x + w / 2, cy = y + h / 2;
      if (region.includes('left')) expect(cx).toBeLessThan(64 / 3 + 1);
      if (region.includes('right')) expect(cx).toBeGreaterThan((2 * 64) / 3 - 1);
      if (region.includes('top')) expect(cy).toBeLessThan(64 / 3 + 1);
      if (region.includes('bottom')) expect(cy).toBeGreaterThan((2 * 64) / 3 - 1);
    }
  });

  it('move shifts the same pixels and resize keeps the centre', () => {
    for (const e of examples('move')) {
      const a = e.annotations.source!.objects[edited(e)]!, b = e.annotations.target.objects[edited(e)]!;
      expect(b.area).toBe(a.area);
      expect(a.bbox.slice(0, 2)).not.toEqual(b.bbox.slice(0, 2));
      expect(e.instruction).toContain(String(e.annotations.edit.to));
    }
    for (const e of examples('resize')) {
      const a = e.annotations.source!.objects[edited(e)]!, b = e.annotations.target.objects[edited(e)]!;
      const bigger = e.instruction.includes('bigger');
      expect(b.area > a.area).toBe(bigger);
      expect(Math.abs(a.bbox[0] + a.bbox[2] / 2 - (b.bbox[0] + b.bbox[2] / 2))).toBeLessThanOrEqual(2);
    }
  });

  it('background change keeps every object pixel and makes the rest the new solid colour', () => {
    for (const e of examples('background')) {
      const bg = backgroundOf(e.annotations.target, e.target);
      expect(e.annotations.target.background.kind).toBe('solid');
      const inObject = new Uint8Array(64 * 64);
      for (const o of e.annotations.target.objects) maskOf(o, e.target).forEach((v, k) => { if (v) inObject[k] = 1; });
      let bad = 0;
      for (let k = 0; k < inObject.length; k++) if (!same(e.target, inObject[k] ? (e.source as RgbImage) : bg, k)) bad++;
      expect(bad).toBe(0);
    }
  });

  it('subject generation composes each entity at its stated slot', () => {
    for (const e of examples('subject')) {
      expect(e.annotations.target.objects.length).toBe(e.entities.length);
      e.entities.forEach((ent, i) => {
        const obj = e.annotations.subjects[i] as WorldObject;
        const mask = maskOf(e.annotations.target.objects[i]!, e.target);
        expect(subjectMismatches(ent, obj, e.target, mask)).toBe(0);
      });
      const xs = e.annotations.target.objects.map((o) => o.bbox[0]);
      if (e.instruction.includes('on the left')) expect(xs[0]).toBeLessThan(xs[xs.length - 1]!);
    }
  });

  it('compositional add / replace put the subject appearance at the stated place', () => {
    for (const e of examples('compose_add')) {
      const k = e.annotations.subjects.findIndex((s) => s !== null);
      const obj = e.annotations.subjects[k] as WorldObject;
      const placed = e.annotations.target.objects[edited(e)]!;
      expect(subjectMismatches(e.entities[k]!, obj, e.target, maskOf(placed, e.target))).toBe(0);
      const anchor = e.annotations.target.objects[e.annotations.edit.anchor as number]!;
      expect(e.instruction).toContain(`${e.annotations.edit.relation} the ${anchor.shape}`);
      const [ax, ay, aw, ah] = anchor.bbox, [px0, py0, pw, ph] = placed.bbox;
      const rel = e.annotations.edit.relation;
      if (rel === 'to the left of') expect(px0 + pw).toBeLessThanOrEqual(ax);
      if (rel === 'to the right of') expect(px0).toBeGreaterThanOrEqual(ax + aw);
      if (rel === 'above') expect(py0 + ph).toBeLessThanOrEqual(ay);
      if (rel === 'below') expect(py0).toBeGreaterThanOrEqual(ay + ah);
    }
    for (const e of examples('compose_replace')) {
      const k = e.annotations.subjects.findIndex((s) => s !== null);
      const obj = e.annotations.subjects[k] as WorldObject;
      const old = e.annotations.source!.objects[edited(e)]!;
      const now = e.annotations.target.objects[edited(e)]!;
      expect(e.instruction).toMatch(new RegExp(`the (${old.color} )?${old.shape}`));
      expect(now.shape).toBe(obj.shape);
      expect(obj.shape).not.toBe(old.shape);
      expect(subjectMismatches(e.entities[k]!, obj, e.target, maskOf(now, e.target))).toBe(0);
      // The new object sits in the old one's box.
      expect(Math.abs(now.bbox[0] + now.bbox[2] / 2 - (old.bbox[0] + old.bbox[2] / 2))).toBeLessThanOrEqual(obj.size / 2);
    }
  });

  it('subjectOnSource draws a subject layout onto a background-only source, as a compositional add', () => {
    const kinds = new Set<string>();
    for (let i = 0; i < N; i++) {
      const plain = generateExample(21, i, { task: 'subject' });
      const e = generateExample(21, i, { task: 'subject', subjectOnSource: 1 });
      expect(e.task).toBe('compose_add');
      expect(exampleTask(21, i, { task: 'subject', subjectOnSource: 1 })).toBe('compose_add');
      const src = e.source as RgbImage;
      expect(e.annotations.source?.objects).toEqual([]);
      kinds.add(e.annotations.source!.background.kind);
      // One placeholder per subject plus the source's, the source among the entities.
      expect(countPlaceholders(e.instruction)).toBe(e.entities.length);
      expect(e.entities).toContain(src);
      const objects = e.annotations.target.objects;
      expect(objects.length).toBe(e.annotations.edit.count);
      expect(e.entities.length).toBe(objects.length + 1);
      // The target is the source where no subject is, and each subject image's object where one is.
      const inObject = new Uint8Array(src.width * src.height);
      for (const o of objects) maskOf(o, e.target).forEach((v, k) => { if (v) inObject[k] = 1; });
      let differ = 0;
      for (let k = 0; k < inObject.length; k++) if (!inObject[k] && !same(src, e.target, k)) differ++;
      expect(differ).toBe(0);
      e.annotations.subjects.forEach((obj, k) => {
        if (obj === null) return;
        const placed = objects.find((o) => o.shape === obj.shape)!;
        expect(subjectMismatches(e.entities[k]!, obj, e.target, maskOf(placed, e.target))).toBe(0);
      });
      // The same slot words as the subject task; without the option, the subject example is unchanged.
      expect(e.instruction).toMatch(/(in the center|on the left|at the top)/);
      expect(generateExample(21, i, { task: 'subject', subjectOnSource: 0 }).target.data).toEqual(plain.target.data);
    }
    expect(kinds.size).toBeGreaterThan(1);
    const mixed = Array.from({ length: 40 }, (_, i) => exampleTask(3, i, { task: 'subject', subjectOnSource: 0.5 }));
    expect(new Set(mixed)).toEqual(new Set(['subject', 'compose_add']));
    for (const bad of [-0.1, 1.5, Number.NaN]) {
      expect(() => generateExample(1, 0, { subjectOnSource: bad })).toThrow(new RegExp(`subjectOnSource must be a chance in \\[0, 1\\], got ${bad}`));
    }
  });
});
