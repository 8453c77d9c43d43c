import type { Rng } from '@mige/core';
import { buildExample } from './build.js';
import { SUBJECT_ON_SOURCE_TEMPLATES, withArticle } from './templates.js';
import { randomBackground, randomObject, randomSize } from './scene.js';
import type { Scene, WorldExample, WorldObject } from './types.js';

/**
 * Subject-driven generation: 1..3 subjects laid out in named slots on a solid background.
 * `onSource`: the same layout and words drawn onto a given source (a background of any kind, no
 * objects), as a compositional add: training on it teaches drawing subjects while the conditional
 * input holds an image, in this slot form (measured, pipelines' RUNS.md of 2026-12-07).
 */
export function subjectTask(rng: Rng, width: number, height: number, onSource = false): WorldExample {
  const n = rng.int(1, 4);
  const vertical = n === 2 && rng.uniform() < 0.4;
  const names = n === 1 ? ['in the center'] : n === 2 ? (vertical ? ['at the top', 'at the bottom'] : ['on the left', 'on the right'])
    : ['on the left', 'in the middle', 'on the right'];
  const slotW = vertical ? width : width / n, slotH = vertical ? height / 2 : height;
  const maxSize = Math.floor(Math.min(slotW, slotH) - 2);
  const background = onSource ? randomBackground(rng) : randomBackground(rng, ['solid']);
  const scene: Scene = { width, height, background, objects: [] };
  const subjects: Record<string, WorldObject> = {};
  const parts: string[] = [];
  for (let k = 0; k < n; k++) {
    const base = randomObject(rng, width, height, scene.objects.map((o) => o.shape));
    const size = Math.min(maxSize, randomSize(rng, width, height) + (n === 1 ? Math.round(width * 0.1) : 0));
    const cx = vertical ? width / 2 : (k + 0.5) * slotW, cy = vertical ? (k + 0.5) * slotH : height / 2;
    const obj = { ...base, size, x: Math.floor(cx - size / 2), y: Math.floor(cy - size / 2) };
    scene.objects.push(obj);
    subjects[`s${k}`] = obj;
    parts.push(`[s${k}] ${names[k] as string}`);
  }
  const joined = parts.length === 1 ? parts[0] as string : `${parts.slice(0, -1).join(', ')} and ${parts[parts.length - 1] as string}`;
  if (onSource) {
    return buildExample(rng, {
      task: 'compose_add', source: { ...scene, objects: [] }, target: scene, subjects, words: { parts: joined },
      edit: { count: n, layout: vertical ? 'vertical' : 'horizontal', onSource: 1 },
    }, SUBJECT_ON_SOURCE_TEMPLATES);
  }
  return buildExample(rng, {
    task: 'subject', target: scene, subjects, words: { parts: joined, bg: background.color, abg: withArticle(background.color) },
    edit: { count: n, layout: vertical ? 'vertical' : 'horizontal' },
  });
}
