import type { Rng } from '@mige/core';
import { buildExample } from './build.js';
import { fits, pick, randomObject, randomScene, randomSize } from './scene.js';
import type { Scene, WorldExample, WorldObject } from './types.js';

const RELATIONS = ['to the left of', 'to the right of', 'above', 'below'] as const;
type Relation = (typeof RELATIONS)[number];
/** Pixels between an anchor and what is added next to it. */
const ADJ_GAP = 2;

function nextTo(anchor: WorldObject, obj: WorldObject, rel: Relation): WorldObject {
  const mid = (a: number) => Math.floor(a + (anchor.size - obj.size) / 2);
  switch (rel) {
    case 'to the left of': return { ...obj, x: anchor.x - ADJ_GAP - obj.size, y: mid(anchor.y) };
    case 'to the right of': return { ...obj, x: anchor.x + anchor.size + ADJ_GAP, y: mid(anchor.y) };
    case 'above': return { ...obj, x: mid(anchor.x), y: anchor.y - ADJ_GAP - obj.size };
    case 'below': return { ...obj, x: mid(anchor.x), y: anchor.y + anchor.size + ADJ_GAP };
  }
}

/** Compositional add: the subject image goes next to a named object of the source. */
export function composeAddTask(rng: Rng, width: number, height: number): WorldExample {
  for (let attempt = 0; attempt < 1000; attempt++) {
    // After many crowded draws, fall back to one small anchor in the middle, which always has room.
    const small = attempt >= 20;
    const source: Scene = small ? { ...randomScene(rng, width, height, 1, 1) } : randomScene(rng, width, height, 1, 3);
    if (small) {
      const s = Math.max(6, Math.round(Math.min(width, height) * 0.2));
      source.objects = [{ ...(source.objects[0] as WorldObject), size: s, x: Math.floor((width - s) / 2), y: Math.floor((height - s) / 2) }];
    }
    const k = rng.int(0, source.objects.length);
    const anchor = source.objects[k] as WorldObject;
    const base = randomObject(rng, width, height, source.objects.map((o) => o.shape));
    const subject = small ? { ...base, size: anchor.size } : { ...base, size: Math.min(base.size, randomSize(rng, width, height)) };
    const rel = pick(rng, RELATIONS);
    const placed = nextTo(anchor, subject, rel);
    if (!fits(placed, source)) continue;
    const target: Scene = { ...source, objects: [...source.objects, placed] };
    return buildExample(rng, {
      task: 'compose_add', source, target, subjects: { subj: placed }, words: { rel, anchor: anchor.shape },
      edit: { object: target.objects.length - 1, anchor: k, relation: rel },
    });
  }
  throw new Error('world: no compositional add fitted after 1000 scenes');
}

/** Compositional replace: a named object of the source becomes the subject, same box. */
export function composeReplaceTask(rng: Rng, width: number, height: number): WorldExample {
  const source = randomScene(rng, width, height);
  const k = rng.int(0, source.objects.length);
  const old = source.objects[k] as WorldObject;
  const base = randomObject(rng, width, height, source.objects.map((o) => o.shape));
  const subject: WorldObject = { ...base, size: old.size, x: old.x, y: old.y };
  const objects = source.objects.slice();
  objects[k] = subject;
  const target: Scene = { ...source, objects };
  return buildExample(rng, {
    task: 'compose_replace', source, target, subjects: { subj: subject }, words: { shape: old.shape, color: old.color },
    edit: { object: k, from: old.shape, to: subject.shape },
  });
}
