import type { RgbImage } from '@mige/core';
import type { ColorName } from './palette.js';
import type { PatternName, ShapeName } from './shapes.js';

export type BackgroundKind = 'solid' | 'vgradient' | 'hgradient' | 'texture';

export interface Background {
  kind: BackgroundKind;
  color: ColorName;
  /** The far end of a gradient; unused by the other kinds. */
  color2: ColorName;
}

/** One object: an integer square box (x, y, size) so pixels align exactly wherever it moves. */
export interface WorldObject {
  shape: ShapeName;
  color: ColorName;
  pattern: PatternName;
  size: number;
  x: number;
  y: number;
}

export interface Scene {
  width: number;
  height: number;
  background: Background;
  objects: WorldObject[];
}

/** Run-length mask in row-major order, starting with a run of zeros (COCO-style counts). */
export interface RleMask {
  counts: number[];
}

export interface ObjectAnnotation {
  shape: ShapeName;
  color: ColorName;
  pattern: PatternName;
  size: number;
  /** [x, y, width, height] of the visible pixels. */
  bbox: [number, number, number, number];
  area: number;
  mask: RleMask;
}

export interface SceneAnnotation {
  background: Background;
  objects: ObjectAnnotation[];
}

export type WorldTask =
  | 'subject'
  | 'recolor'
  | 'remove'
  | 'add'
  | 'move'
  | 'resize'
  | 'background'
  | 'compose_add'
  | 'compose_replace';

export const WORLD_TASKS: readonly WorldTask[] = [
  'subject', 'recolor', 'remove', 'add', 'move', 'resize', 'background', 'compose_add', 'compose_replace',
];

export interface ExampleAnnotations {
  source?: SceneAnnotation;
  target: SceneAnnotation;
  /** Subject objects behind each entity image that is a subject (null for the source). */
  subjects: (WorldObject | null)[];
  /** Task-specific facts: the edited object's index in the target, the old / new values, ... */
  edit: Record<string, string | number | null>;
}

export interface WorldExample {
  task: WorldTask;
  instruction: string;
  source?: RgbImage;
  entities: RgbImage[];
  target: RgbImage;
  annotations: ExampleAnnotations;
}
