import type { RgbImage, Rng } from '@mige/core';
import { annotateScene, renderScene, renderSubject } from './raster.js';
import { chooseTemplate, fillTemplate } from './templates.js';
import type { ExampleAnnotations, Scene, WorldExample, WorldObject, WorldTask } from './types.js';

export interface ExampleParts {
  task: WorldTask;
  source?: Scene;
  target: Scene;
  words: Record<string, string>;
  /** Subject objects by image-slot name (rendered alone as entity images). */
  subjects: Record<string, WorldObject>;
  edit: ExampleAnnotations['edit'];
}

/** Renders the scenes and subjects and fills a randomly chosen paraphrase. */
export function buildExample(rng: Rng, parts: ExampleParts, templates?: readonly string[]): WorldExample {
  const { width, height } = parts.target;
  const target = renderScene(parts.target);
  const images: Record<string, RgbImage> = {};
  const slotObjects = new Map<RgbImage, WorldObject | null>();
  for (const [name, obj] of Object.entries(parts.subjects)) {
    const img = renderSubject(obj, width, height);
    images[name] = img;
    slotObjects.set(img, obj);
  }
  let source: RgbImage | undefined;
  let sourceAnn: ExampleAnnotations['source'];
  if (parts.source) {
    const rendered = renderScene(parts.source);
    source = rendered.image;
    sourceAnn = annotateScene(parts.source, rendered);
    images.src = source;
    slotObjects.set(source, null);
  }
  const { instruction, entities } = fillTemplate(chooseTemplate(rng, parts.task, templates), parts.words, images);
  const annotations: ExampleAnnotations = {
    target: annotateScene(parts.target, target),
    subjects: entities.map((e) => slotObjects.get(e) ?? null),
    edit: parts.edit,
  };
  if (sourceAnn) annotations.source = sourceAnn;
  const example: WorldExample = { task: parts.task, instruction, entities, target: target.image, annotations };
  if (source) example.source = source;
  return example;
}
