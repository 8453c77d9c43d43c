import type { RgbImage } from '@mige/core';
import { describe, expect, it } from 'vitest';
import { objectScores } from '../../src/eval/object-metrics.js';
import { generateExample, rleToMask, WORLD_TASKS, type WorldExample } from '../../src/world/index.js';

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

/** What a VAE does to an image, roughly: a 3x3 box blur, then ±10 levels of noise per channel. */
function degrade(img: RgbImage, seed: number): RgbImage {
  const { width: w, height: h, data } = img;
  const out = new Uint8Array(data.length);
  let s = seed >>> 0;
  const noise = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 20 - 10;
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let c = 0; c < 3; c++) {
    let sum = 0, n = 0;
    for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) {
      const xx = x + dx, yy = y + dy;
      if (xx < 0 || yy < 0 || xx >= w || yy >= h) continue;
      sum += data[3 * (yy * w + xx) + c] as number; n++;
    }
    out[3 * (y * w + x) + c] = Math.max(0, Math.min(255, Math.round(sum / n + noise())));
  }
  return { width: w, height: h, data: out };
}

describe('objectScores on a model-like (blurred, noisy) output', () => {
  const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
  for (const task of WORLD_TASKS) {
    it(`scores the degraded target as right and the degraded source as wrong: ${task}`, () => {
      const right: number[] = [], kept: number[] = [], wrong: number[] = [], preserved: number[] = [];
      for (let i = 0; i < 30; i++) {
        const ex = generateExample(21, i, { task, size: 64 });
        const s = objectScores(ex, degrade(ex.target, i));
        right.push(s.instructed);
        if (s.othersUnchanged !== null) kept.push(s.othersUnchanged);
        if (s.subjectPreserved !== null) preserved.push(s.subjectPreserved);
        if (ex.source) wrong.push(objectScores(ex, degrade(ex.source, i)).instructed);
      }
      // Not 1: blurred, a 6 px triangle is as round as a circle, and shape decides identity.
      expect(mean(right)).toBeGreaterThanOrEqual(0.75);
      if (kept.length) expect(mean(kept)).toBeGreaterThanOrEqual(0.85);
      if (preserved.length) expect(mean(preserved)).toBeGreaterThanOrEqual(0.75);
      if (wrong.length) expect(mean(wrong)).toBeLessThanOrEqual(0.1);
      console.log(`${task}: instructed ${mean(right).toFixed(2)} others ${kept.length ? mean(kept).toFixed(2) : '-'} preserved ${preserved.length ? mean(preserved).toFixed(2) : '-'} | source instructed ${wrong.length ? mean(wrong).toFixed(2) : '-'}`);
    });
  }
});
