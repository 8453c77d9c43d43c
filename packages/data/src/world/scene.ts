import { MigeInputError, type Rng } from '@mige/core';
import { COLOR_NAMES, type ColorName } from './palette.js';
import { PATTERN_NAMES, SHAPE_NAMES, type ShapeName } from './shapes.js';
import type { Background, BackgroundKind, Scene, WorldObject } from './types.js';

/** How many random placements to try before giving up on an object (bounded rejection sampling). */
export const PLACEMENT_TRIES = 40;
/** Free pixels kept between object boxes so objects never touch. */
const GAP = 1;

export function pick<T>(rng: Rng, items: readonly T[]): T {
  return items[rng.int(0, items.length)] as T;
}

export function checkSize(width: number, height: number): void {
  for (const [name, v] of [['width', width], ['height', height]] as const) {
    if (!Number.isInteger(v) || v < 32 || v > 128) {
      throw new MigeInputError(`${name} must be an integer in 32..128, got ${v}`, 'world');
    }
  }
}

export function randomBackground(rng: Rng, kinds: readonly BackgroundKind[] = ['solid', 'vgradient', 'hgradient', 'texture']): Background {
  const color = pick(rng, COLOR_NAMES);
  let color2 = pick(rng, COLOR_NAMES);
  if (color2 === color) color2 = COLOR_NAMES[(COLOR_NAMES.indexOf(color) + 3) % COLOR_NAMES.length] as ColorName;
  return { kind: pick(rng, kinds), color, color2 };
}

/** Object sizes scale with the canvas: about 1/5 to 1/3 of the short side. */
export function randomSize(rng: Rng, width: number, height: number): number {
  const s = Math.min(width, height);
  return rng.int(Math.max(6, Math.round(s * 0.2)), Math.round(s * 0.34) + 1);
}

export function overlaps(a: WorldObject, b: WorldObject): boolean {
  return a.x < b.x + b.size + GAP && b.x < a.x + a.size + GAP && a.y < b.y + b.size + GAP && b.y < a.y + a.size + GAP;
}

export function fits(obj: WorldObject, scene: Scene, ignore = -1): boolean {
  if (obj.x < 0 || obj.y < 0 || obj.x + obj.size > scene.width || obj.y + obj.size > scene.height) return false;
  return scene.objects.every((o, i) => i === ignore || !overlaps(o, obj));
}

/** A random object whose shape is not in `exclude` (so "the star" always names one object). */
export function randomObject(rng: Rng, width: number, height: number, exclude: readonly ShapeName[] = []): WorldObject {
  const shapes = SHAPE_NAMES.filter((s) => !exclude.includes(s));
  const size = randomSize(rng, width, height);
  return {
    shape: pick(rng, shapes),
    color: pick(rng, COLOR_NAMES),
    pattern: pick(rng, PATTERN_NAMES),
    size,
    x: rng.int(0, width - size + 1),
    y: rng.int(0, height - size + 1),
  };
}

/** Tries random positions for `obj` in `scene`; the placed copy, or null when none fits. */
export function placeRandomly(rng: Rng, scene: Scene, obj: WorldObject): WorldObject | null {
  for (let t = 0; t < PLACEMENT_TRIES; t++) {
    const cand = { ...obj, x: rng.int(0, scene.width - obj.size + 1), y: rng.int(0, scene.height - obj.size + 1) };
    if (fits(cand, scene)) return cand;
  }
  return null;
}

/** A scene with 1..maxObjects objects of distinct shapes, none overlapping. */
export function randomScene(rng: Rng, width: number, height: number, minObjects = 1, maxObjects = 4): Scene {
  checkSize(width, height);
  const scene: Scene = { width, height, background: randomBackground(rng), objects: [] };
  const n = rng.int(minObjects, maxObjects + 1);
  for (let k = 0; k < n; k++) {
    const obj = randomObject(rng, width, height, scene.objects.map((o) => o.shape));
    const placed = placeRandomly(rng, scene, obj);
    if (placed) scene.objects.push(placed);
  }
  // The first object always fits an empty canvas, but a crowded draw may fall short of the minimum.
  return scene;
}

/** A coarse 3x3 region name for a point, as instructions say it. */
export function regionName(cx: number, cy: number, width: number, height: number): string {
  const col = cx < width / 3 ? 0 : cx < (2 * width) / 3 ? 1 : 2;
  const row = cy < height / 3 ? 0 : cy < (2 * height) / 3 ? 1 : 2;
  const v = ['top', '', 'bottom'][row] as string;
  const h = ['left', '', 'right'][col] as string;
  if (!v && !h) return 'center';
  return v && h ? `${v} ${h}` : v || h;
}

export function centreOf(o: WorldObject): [number, number] {
  return [o.x + o.size / 2, o.y + o.size / 2];
}
