import { describe, expect, it } from 'vitest';
import { detectObjects } from '../../src/eval/detect.js';
import { generateExample, WORLD_TASKS, type SceneAnnotation } from '../../src/world/index.js';
import type { RgbImage } from '@mige/core';

function recovered(img: RgbImage, ann: SceneAnnotation): [number, number] {
  const found = detectObjects(img);
  let ok = 0;
  for (const o of ann.objects) {
    const d = found.find((f) => f.shape === o.shape && f.color === o.color && f.bbox.every((v, i) => v === o.bbox[i]));
    if (d) ok++;
  }
  return [ok, ann.objects.length];
}

describe('detectObjects', () => {
  it('recovers > 99% of annotated objects (shape, colour, bbox) on ground truth, all tasks', () => {
    let ok = 0, total = 0, patterns = 0, targetObjects = 0;
    for (const task of WORLD_TASKS) {
      for (let i = 0; i < 60; i++) {
        const size = [32, 64, 96][i % 3] as number;
        const ex = generateExample(11 + i, i, { task, size });
        const [a, n] = recovered(ex.target, ex.annotations.target);
        ok += a; total += n;
        const found = detectObjects(ex.target);
        for (const o of ex.annotations.target.objects) {
          targetObjects++;
          if (found.some((d) => d.shape === o.shape && d.pattern === o.pattern)) patterns++;
        }
        if (ex.source && ex.annotations.source) {
          const [b, m] = recovered(ex.source, ex.annotations.source);
          ok += b; total += m;
        }
      }
    }
    const rate = ok / total;
    console.log(`detector: ${ok}/${total} = ${(rate * 100).toFixed(2)}%, target patterns right: ${patterns}/${targetObjects}`);
    expect(total).toBeGreaterThan(1000);
    expect(rate).toBeGreaterThan(0.99);
    expect(patterns / targetObjects).toBeGreaterThan(0.99);
  });
});
