/**
 * The binding cases (binding.ts): two-object scenes of the synthetic world, each edited twice,
 * naming each object in turn; in every other scene the two objects share their colour, so only
 * the shape word tells them apart. Also the training data that research/write-binding-data.ts
 * draws from other seeds.
 */
import { Rng, type RgbImage } from '@mige/core';
import {
  annotateScene, COLOR_NAMES, randomScene, regionName, renderScene, renderSubject, SHAPE_NAMES, TEMPLATES,
  type Scene, type WorldExample, type WorldObject,
} from '@mige/data';

export const BINDING_TASKS = ['remove', 'recolor', 'move', 'compose_replace'] as const;
export type BindingTask = (typeof BINDING_TASKS)[number];

const pick = <T>(rng: Rng, items: readonly T[]): T => items[rng.int(0, items.length)] as T;
const region = (o: WorldObject, size: number) => regionName(o.x + o.size / 2, o.y + o.size / 2, size, size);
const apart = (p: WorldObject, q: WorldObject) => p.x >= q.x + q.size + 1 || q.x >= p.x + p.size + 1 || p.y >= q.y + q.size + 1 || q.y >= p.y + p.size + 1;

/** A scene with exactly two objects (distinct shapes, as every world scene); `sameColour` paints both alike. */
function twoObjectScene(rng: Rng, size: number, sameColour: boolean): Scene {
  for (;;) {
    const s = randomScene(rng, size, size, 2, 2);
    if (s.objects.length !== 2) continue;
    if (sameColour) s.objects[1] = { ...(s.objects[1] as WorldObject), color: (s.objects[0] as WorldObject).color };
    return s;
  }
}

/** The world's paraphrase `template` with its words and images (`[name]` → `<imagehere>`, in slot order). */
function fill(template: string, words: Record<string, string>, images: Record<string, RgbImage>): { instruction: string; entities: RgbImage[] } {
  const entities: RgbImage[] = [];
  const instruction = template
    .replace(/\{(\w+)\}/g, (_, k: string) => words[k] as string)
    .replace(/\[(\w+)\]/g, (_, k: string) => {
      entities.push(images[k] as RgbImage);
      return '<imagehere>';
    });
  return { instruction, entities };
}

/** The case editing object `k` of `scene` with `task`, in paraphrase `t`; null when a move finds no free region. */
function makeCase(rng: Rng, scene: Scene, k: number, task: BindingTask, t: number): WorldExample | null {
  const size = scene.width;
  const obj = scene.objects[k] as WorldObject;
  const other = scene.objects[1 - k] as WorldObject;
  const objects = scene.objects.slice();
  let words: Record<string, string>;
  let edit: Record<string, string | number>;
  let subject: WorldObject | undefined;
  switch (task) {
    case 'remove':
      objects.splice(k, 1);
      words = { shape: obj.shape, color: obj.color };
      edit = { object: k, shape: obj.shape };
      break;
    case 'recolor': {
      // A colour neither object has, so that the other object's colour never reads as the new one.
      const to = pick(rng, COLOR_NAMES.filter((c) => c !== obj.color && c !== other.color));
      objects[k] = { ...obj, color: to };
      words = { shape: obj.shape, old: obj.color, new: to };
      edit = { object: k, from: obj.color, to };
      break;
    }
    case 'move': {
      let moved: WorldObject | undefined;
      for (let tries = 0; tries < 200 && !moved; tries++) {
        const c = { ...obj, x: rng.int(0, size - obj.size + 1), y: rng.int(0, size - obj.size + 1) };
        if (region(c, size) !== region(obj, size) && region(c, size) !== region(other, size) && apart(c, other)) moved = c;
      }
      if (!moved) return null;
      objects[k] = moved;
      words = { shape: obj.shape, color: obj.color, region: region(moved, size) };
      edit = { object: k, from: region(obj, size), to: region(moved, size) };
      break;
    }
    case 'compose_replace': {
      const shape = pick(rng, SHAPE_NAMES.filter((s) => s !== obj.shape && s !== other.shape));
      subject = { ...obj, shape, color: pick(rng, COLOR_NAMES), pattern: obj.pattern };
      objects[k] = subject;
      words = { shape: obj.shape, color: obj.color };
      edit = { object: k, from: obj.shape, to: shape };
      break;
    }
  }
  const target: Scene = { ...scene, objects };
  const [src, tgt] = [renderScene(scene), renderScene(target)];
  const images: Record<string, RgbImage> = { src: src.image };
  if (subject) images.subj = renderSubject(subject, size, size);
  const templates = TEMPLATES[task];
  const { instruction, entities } = fill(templates[t % templates.length] as string, words, images);
  return {
    task, instruction, source: src.image, entities, target: tgt.image,
    annotations: {
      source: annotateScene(scene, src), target: annotateScene(target, tgt),
      subjects: entities.map((e) => (e === images.subj ? (subject as WorldObject) : null)), edit,
    },
  };
}

/** Every task's cases: `count` scenes each (`size` px), both objects named in turn. */
export function bindingCases(seed: number, count: number, tasks: readonly BindingTask[], size: number): Map<BindingTask, WorldExample[][]> {
  const out = new Map<BindingTask, WorldExample[][]>();
  for (const task of tasks) {
    const pairs: WorldExample[][] = [];
    const rng = new Rng(`binding/${seed}/${task}`);
    for (let i = 0; pairs.length < count; i++) {
      const scene = twoObjectScene(rng.fork(`scene/${i}`), size, i % 2 === 1);
      const pair = [0, 1].map((k) => makeCase(rng.fork(`case/${i}/${k}`), scene, k, task, i + k));
      if (pair.every((c) => c)) pairs.push(pair as WorldExample[]);
    }
    out.set(task, pairs);
  }
  return out;
}
