import { describe, expect, it } from 'vitest';
import { Rng } from '@mige/core';
import {
  COLOR_NAMES, colorRgb, maskToRle, PATTERN_NAMES, randomScene, renderScene, renderSubject, rleToMask, SHAPE_NAMES, type WorldObject,
} from '../../src/world/index.js';
import { px } from './helpers.js';

const obj = (over: Partial<WorldObject>): WorldObject => ({ shape: 'circle', color: 'red', pattern: 'solid', size: 20, x: 6, y: 6, ...over });
const blank = { kind: 'solid', color: 'yellow', color2: 'yellow' } as const;

describe('world rasteriser', () => {
  it('draws 8 distinct shapes, 4 distinct patterns and 10 distinct colours', () => {
    const masks = SHAPE_NAMES.map((shape) => renderScene({ width: 32, height: 32, background: blank, objects: [obj({ shape })] }).masks[0]!);
    const keys = new Set(masks.map((m) => Buffer.from(m).toString('hex')));
    expect(keys.size).toBe(SHAPE_NAMES.length);
    for (const m of masks) expect(m.reduce((a, b) => a + b, 0)).toBeGreaterThan(60);
    const patterns = new Set(PATTERN_NAMES.map((pattern) => Buffer.from(renderSubject(obj({ pattern }), 32, 32).data).toString('hex')));
    expect(patterns.size).toBe(4);
    expect(new Set(COLOR_NAMES.map((c) => colorRgb(c).join(','))).size).toBe(10);
  });

  it('draws a circle where the maths says, and the subject centred on white', () => {
    const { image, masks } = renderScene({ width: 32, height: 32, background: blank, objects: [obj({})] });
    expect(px(image, 16, 16)).toEqual([...colorRgb('red')]);
    expect(px(image, 6, 6)).not.toEqual([...colorRgb('red')]);
    expect(masks[0]![16 * 32 + 16]).toBe(1);
    const s = renderSubject(obj({ x: 0, y: 0 }), 40, 40);
    expect(px(s, 0, 0)).toEqual([255, 255, 255]);
    expect(px(s, 20, 20)).toEqual([...colorRgb('red')]);
  });

  it('round-trips masks through RLE', () => {
    const m = new Uint8Array([1, 1, 0, 0, 0, 1, 0, 1, 1]);
    expect(maskToRle(m).counts).toEqual([0, 2, 3, 1, 1, 2]);
    expect(Array.from(rleToMask(maskToRle(m), m.length))).toEqual(Array.from(m));
  });

  it('samples 1..4 non-overlapping objects with distinct shapes', () => {
    const rng = new Rng(8);
    const counts = new Set<number>();
    for (let i = 0; i < 200; i++) {
      const s = randomScene(rng, 64, 64);
      counts.add(s.objects.length);
      expect(new Set(s.objects.map((o) => o.shape)).size).toBe(s.objects.length);
      const { masks } = renderScene(s);
      const cover = new Uint8Array(64 * 64);
      for (const m of masks) for (let k = 0; k < m.length; k++) cover[k] = (cover[k] as number) + (m[k] as number);
      expect(Math.max(...cover)).toBeLessThanOrEqual(1);
    }
    expect([...counts].sort()).toEqual([1, 2, 3, 4]);
  });
});
