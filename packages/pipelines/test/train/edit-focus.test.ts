// editFocusWeights: extra mse weight on the latent cells an edit changes, each item at mean 1.
import { MigeInputError, type ChwImage } from '@mige/core';
import { useBackend } from '@mige/core/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateExample, rleToMask } from '@mige/data';
import { datasetFromWorld, editFocusWeights, type TrainExample } from '../../src/train/index.js';

const S = 16; // image side; latent side 4 (4 px per cell)
const image = (fill: number, paint?: { x: number; y: number; v: number }): ChwImage => {
  const data = new Float32Array(3 * S * S).fill(fill);
  if (paint) data[S * S + paint.y * S + paint.x] = paint.v; // green channel only
  return { width: S, height: S, data };
};
const example = (target: ChwImage, source: ChwImage | null): TrainExample => ({
  task: source ? 'edit' : 'subject', instruction: 'x', target, source, entities: [], sourceEntity: -1,
});

describe('editFocusWeights', () => {
  beforeAll(async () => {
    await useBackend('cpu');
  });

  it('weights the changed cell and its neighbours 1 + focus before normalising to mean 1', () => {
    // One pixel at (13, 1) changes: latent cell (x 3, y 0); dilated: x 2..3, y 0..1 (4 cells).
    const ex = example(image(0, { x: 13, y: 1, v: 0.5 }), image(0));
    const w = editFocusWeights([ex], 4, 3).arraySync()[0]?.[0] as number[][];
    const mean = (4 * 4 + 3 * 4) / 16;
    for (let y = 0; y < 4; y++) for (let x = 0; x < 4; x++) {
      const near = y <= 1 && x >= 2;
      expect((w[y] as number[])[x], `cell ${y},${x}`).toBeCloseTo((near ? 4 : 1) / mean, 6);
    }
  });

  it('leaves subject items, unchanged items, sub-threshold changes and focus 0 uniform', () => {
    const items = [
      example(image(0.3), null),
      example(image(0.3), image(0.3)),
      example(image(0, { x: 0, y: 0, v: 0.05 }), image(0)),
    ];
    for (const w of [editFocusWeights(items, 4, 5), editFocusWeights([example(image(0, { x: 0, y: 0, v: 1 }), image(0))], 4, 0)]) {
      expect(w.shape[1]).toBe(1);
      for (const v of w.dataSync()) expect(v).toBe(1);
    }
  });

  it("'objects' weighs every annotated object's cells, edited or not, and skip leaves items uniform", () => {
    // The edit changes (13, 1) (cell x 3, y 0); the annotated objects sit at (1, 14) (cell 0, 3) only.
    const objects = new Uint8Array(S * S);
    objects[14 * S + 1] = 1;
    const ex = { ...example(image(0, { x: 13, y: 1, v: 0.5 }), image(0)), objects: () => objects };
    const w = editFocusWeights([ex], 4, 3, { on: 'objects' }).arraySync()[0]?.[0] as number[][];
    const mean = (4 * 4 + 3 * 4) / 16;
    for (let y = 0; y < 4; y++) for (let x = 0; x < 4; x++) {
      const near = y >= 2 && x <= 1;
      expect((w[y] as number[])[x], `cell ${y},${x}`).toBeCloseTo((near ? 4 : 1) / mean, 6);
    }
    const skipped = editFocusWeights([ex, ex], 4, 3, { on: 'objects', skip: [true, false] }).dataSync();
    expect(Array.from(skipped.subarray(0, 16)).every((v) => v === 1)).toBe(true);
    expect(Array.from(skipped.subarray(16)).some((v) => v !== 1)).toBe(true);
    expect(() => editFocusWeights([example(image(0), image(0))], 4, 1, { on: 'objects' })).toThrow(/example 0: focus on 'objects' needs object annotations/);
  });

  it("datasetFromWorld marks the source's and the target's object pixels, resampled to the model's size", async () => {
    const ex = generateExample(4, 0, { task: 'move', size: 32 });
    const union = new Set<number>();
    for (const o of [...(ex.annotations.source?.objects ?? []), ...ex.annotations.target.objects]) rleToMask(o.mask, 32 * 32).forEach((v, k) => v && union.add(k));
    const same = await datasetFromWorld([ex], { imageSize: 32, vitSize: 16 }).get('edit', 0);
    expect(same.objects?.().reduce((a, v) => a + v, 0)).toBe(union.size);
    const doubled = await datasetFromWorld([ex], { imageSize: 64, vitSize: 16 }).get('edit', 0);
    const pixels = doubled.objects?.();
    expect(pixels?.length).toBe(64 * 64);
    expect(pixels?.reduce((a, v) => a + v, 0)).toBe(4 * union.size);
  });

  it('names the example whose images do not fit', () => {
    const small: ChwImage = { width: 8, height: 8, data: new Float32Array(3 * 64) };
    expect(() => editFocusWeights([example(image(0), image(0)), example(image(0), small)], 4, 1)).toThrow(/example 1: source 8x8 and target 16x16 differ/);
    expect(() => editFocusWeights([example(image(0), image(0))], 3, 1)).toThrow(/not a multiple of the latent size 3/);
    expect(() => editFocusWeights([], 4, -1)).toThrow(MigeInputError);
  });
});
