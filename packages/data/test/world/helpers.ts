import type { RgbImage } from '@mige/core';
import { rleToMask, type ObjectAnnotation, type WorldObject } from '../../src/world/index.js';

export function px(img: RgbImage, x: number, y: number): [number, number, number] {
  const o = (y * img.width + x) * 3;
  return [img.data[o] as number, img.data[o + 1] as number, img.data[o + 2] as number];
}

export function maskOf(ann: ObjectAnnotation, img: RgbImage): Uint8Array {
  return rleToMask(ann.mask, img.width * img.height);
}

/** Pixels of `obj` drawn into `big` at its own (x, y) that differ from the subject image's. */
export function subjectMismatches(subject: RgbImage, obj: WorldObject, big: RgbImage, mask: Uint8Array): number {
  const sx = Math.floor((subject.width - obj.size) / 2), sy = Math.floor((subject.height - obj.size) / 2);
  let bad = 0, seen = 0;
  for (let j = 0; j < obj.size; j++) {
    for (let i = 0; i < obj.size; i++) {
      const k = (obj.y + j) * big.width + obj.x + i;
      if (!mask[k]) continue;
      seen++;
      const a = px(subject, sx + i, sy + j), b = px(big, obj.x + i, obj.y + j);
      if (a[0] !== b[0] || a[1] !== b[1] || a[2] !== b[2]) bad++;
    }
  }
  return seen === 0 ? -1 : bad;
}
