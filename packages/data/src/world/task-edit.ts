import type { Rng } from '@mige/core';
import { buildExample } from './build.js';
import { COLOR_NAMES } from './palette.js';
import { centreOf, fits, pick, placeRandomly, PLACEMENT_TRIES, randomObject, randomScene, regionName } from './scene.js';
import { describeObject } from './templates.js';
import type { Scene, WorldExample, WorldObject } from './types.js';

/** Scenes redrawn before giving up; a fit is found within a few in practice. */
const SCENE_ATTEMPTS = 1000;

function cloneScene(s: Scene): Scene {
  return { ...s, background: { ...s.background }, objects: s.objects.map((o) => ({ ...o })) };
}

function whereWords(o: WorldObject, s: Scene): string {
  const r = regionName(...centreOf(o), s.width, s.height);
  if (r === 'center') return 'in the center';
  return r === 'left' || r === 'right' ? `on the ${r}` : `at the ${r}`;
}

export function recolorTask(rng: Rng, width: number, height: number): WorldExample {
  const source = randomScene(rng, width, height);
  const k = rng.int(0, source.objects.length);
  const obj = source.objects[k] as WorldObject;
  const next = pick(rng, COLOR_NAMES.filter((c) => c !== obj.color));
  const target = cloneScene(source);
  (target.objects[k] as WorldObject).color = next;
  return buildExample(rng, {
    task: 'recolor', source, target, subjects: {}, words: { shape: obj.shape, old: obj.color, new: next },
    edit: { object: k, from: obj.color, to: next },
  });
}

export function removeTask(rng: Rng, width: number, height: number): WorldExample {
  const source = randomScene(rng, width, height);
  const k = rng.int(0, source.objects.length);
  const obj = source.objects[k] as WorldObject;
  const target = cloneScene(source);
  target.objects.splice(k, 1);
  return buildExample(rng, {
    task: 'remove', source, target, subjects: {}, words: { shape: obj.shape, color: obj.color },
    edit: { object: k, shape: obj.shape },
  });
}

export function addTask(rng: Rng, width: number, height: number): WorldExample {
  for (let attempt = 0; attempt < SCENE_ATTEMPTS; attempt++) {
    const source = randomScene(rng, width, height, 1, 3);
    const obj = placeRandomly(rng, source, randomObject(rng, width, height, source.objects.map((o) => o.shape)));
    // A crowded scene leaves no room: draw another (an emptier one fits soon).
    if (!obj) continue;
    const target = cloneScene(source);
    target.objects.push(obj);
    return buildExample(rng, {
      task: 'add', source, target, subjects: {},
      words: { desc: describeObject(obj, Math.min(width, height)), where: whereWords(obj, source) },
      edit: { object: target.objects.length - 1, shape: obj.shape, region: regionName(...centreOf(obj), width, height) },
    });
  }
  throw new Error('world: no add edit fitted after ' + SCENE_ATTEMPTS + ' scenes');
}

export function moveTask(rng: Rng, width: number, height: number): WorldExample {
  for (let attempt = 0; attempt < SCENE_ATTEMPTS; attempt++) {
    const source = randomScene(rng, width, height);
    const k = rng.int(0, source.objects.length);
    const obj = source.objects[k] as WorldObject;
    const from = regionName(...centreOf(obj), width, height);
    for (let t = 0; t < PLACEMENT_TRIES; t++) {
      const moved = { ...obj, x: rng.int(0, width - obj.size + 1), y: rng.int(0, height - obj.size + 1) };
      const to = regionName(...centreOf(moved), width, height);
      if (to === from || !fits(moved, source, k)) continue;
      const target = cloneScene(source);
      target.objects[k] = moved;
      return buildExample(rng, {
        task: 'move', source, target, subjects: {}, words: { shape: obj.shape, color: obj.color, region: to },
        edit: { object: k, from, to },
      });
    }
  }
  throw new Error('world: no move edit fitted after ' + SCENE_ATTEMPTS + ' scenes');
}

export function resizeTask(rng: Rng, width: number, height: number): WorldExample {
  for (let attempt = 0; attempt < SCENE_ATTEMPTS; attempt++) {
    const source = randomScene(rng, width, height);
    const k = rng.int(0, source.objects.length);
    const obj = source.objects[k] as WorldObject;
    const bigger = rng.uniform() < 0.5;
    const size = Math.round(obj.size * (bigger ? 1.5 : 0.6));
    // Keep the centre where it was, so only the size changes.
    const resized = { ...obj, size, x: Math.round(obj.x + (obj.size - size) / 2), y: Math.round(obj.y + (obj.size - size) / 2) };
    if (size < 5 || !fits(resized, source, k)) continue;
    const target = cloneScene(source);
    target.objects[k] = resized;
    return buildExample(rng, {
      task: 'resize', source, target, subjects: {},
      words: { shape: obj.shape, color: obj.color, bigger: bigger ? 'bigger' : 'smaller' },
      edit: { object: k, from: obj.size, to: size },
    });
  }
  throw new Error('world: no resize edit fitted after ' + SCENE_ATTEMPTS + ' scenes');
}

export function backgroundTask(rng: Rng, width: number, height: number): WorldExample {
  const source = randomScene(rng, width, height);
  const target = cloneScene(source);
  const color = pick(rng, COLOR_NAMES.filter((c) => c !== source.background.color || source.background.kind !== 'solid'));
  target.background = { kind: 'solid', color, color2: color };
  return buildExample(rng, {
    task: 'background', source, target, subjects: {}, words: { color },
    edit: { from: source.background.color, fromKind: source.background.kind, to: color },
  });
}
