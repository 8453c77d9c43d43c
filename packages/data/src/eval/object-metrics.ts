import type { RgbImage } from '@mige/core';
import { rleToMask } from '../world/raster.js';
import { regionName } from '../world/scene.js';
import type { ObjectAnnotation, WorldExample, WorldObject } from '../world/types.js';
import { detectObjects, type DetectedObject } from './detect.js';

/** Object scores of one output; null where a score does not apply to the example's task. */
export interface ObjectScores {
  /**
   * 1 when the instructed change is in the output, else 0 (subject: the fraction of subjects).
   * - recolor / add / move / resize / compose_add / compose_replace: the target's edited object
   *   (annotations.edit.object) is detected with its shape and colour, and its bbox centre lies in
   *   the same 3x3 region as the target's; resize also needs the bbox's longer side within ±20% (at least ±2 px).
   * - remove: no detection has the removed object's shape and colour.
   * - background: >= 80% of the pixels outside the target's objects are within BG_TOLERANCE (per
   *   channel, 0..255) of the target's pixels there, and nearer (L1) to them than to the source's.
   * - subject: each subject detected with its shape and colour in its region; the mean over subjects.
   */
  instructed: number;
  /**
   * The fraction of the target's other objects (all but the edited one) that are unchanged: a
   * detection with the same shape and colour whose mask has IoU >= KEPT_IOU with the annotated mask.
   * null for subject generation, and when the target has no other object.
   */
  othersUnchanged: number | null;
  /**
   * Subject tasks (subject, compose_add, compose_replace): for each subject, the fraction of the
   * detected object's interior mask pixels that agree (within SUBJECT_TOLERANCE per channel, both objects 3x3-blurred) with the entity image at the
   * corresponding position (the output bbox mapped onto the subject's bbox in the entity image,
   * scaled when sizes differ); 0 when the subject is not detected. The mean over subjects; null for other tasks.
   */
  subjectPreserved: number | null;
}

// Tolerances for a model's output, which passes through a VAE: edges blur by a pixel and colours
// shift by ~10-30 levels. The tests calibrate them on blurred, noisy ground truth.
const KEPT_IOU = 0.6;
const BG_TOLERANCE = 32;
const SUBJECT_TOLERANCE = 32;

const REGION_OF = (bbox: readonly number[], w: number, h: number): string =>
  regionName((bbox[0] as number) + (bbox[2] as number) / 2, (bbox[1] as number) + (bbox[3] as number) / 2, w, h);

function findLike(found: DetectedObject[], o: { shape: string; color: string }): DetectedObject | undefined {
  // Shapes are distinct within a scene, so shape + colour names at most one object.
  return found.find((d) => d.shape === o.shape && d.color === o.color);
}

function maskIou(a: Uint8Array, b: Uint8Array): number {
  let inter = 0, union = 0;
  for (let k = 0; k < a.length; k++) { if (a[k] && b[k]) inter++; if (a[k] || b[k]) union++; }
  return union === 0 ? 1 : inter / union;
}

function placedRight(found: DetectedObject[], ann: ObjectAnnotation, out: RgbImage, checkSize: boolean): boolean {
  const d = findLike(found, ann);
  if (!d) return false;
  if (REGION_OF(d.bbox, out.width, out.height) !== REGION_OF(ann.bbox, out.width, out.height)) return false;
  if (!checkSize) return true;
  const want = Math.max(ann.bbox[2], ann.bbox[3]), got = Math.max(d.bbox[2], d.bbox[3]);
  return Math.abs(got - want) <= Math.max(0.2 * want, 2);
}

function backgroundRight(ex: WorldExample, out: RgbImage): boolean {
  const n = out.width * out.height;
  const objects = new Uint8Array(n);
  for (const o of ex.annotations.target.objects) rleToMask(o.mask, n).forEach((v, k) => { if (v) objects[k] = 1; });
  const src = ex.source;
  let ok = 0, total = 0;
  for (let p = 0; p < n; p++) {
    if (objects[p]) continue;
    total++;
    let close = true, toTarget = 0, toSource = 0;
    for (let c = 0; c < 3; c++) {
      const o = out.data[3 * p + c] as number, t = ex.target.data[3 * p + c] as number;
      if (Math.abs(o - t) > BG_TOLERANCE) close = false;
      toTarget += Math.abs(o - t);
      if (src) toSource += Math.abs(o - (src.data[3 * p + c] as number));
    }
    if (close && (!src || toTarget < toSource)) ok++;
  }
  return total === 0 || ok / total >= 0.8;
}

/**
 * A 3x3 box blur over the pixels of `mask` only (neighbours outside it do not count): compares a
 * pattern with its VAE-blurred rendering on equal terms, whatever surrounds the object.
 */
function maskedBlur(img: RgbImage, mask: Uint8Array): RgbImage {
  const { width: w, height: h, data } = img;
  const out = new Uint8Array(data.length);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    if (!mask[y * w + x]) continue;
    for (let c = 0; c < 3; c++) {
      let sum = 0, n = 0;
      for (let yy = Math.max(0, y - 1); yy <= Math.min(h - 1, y + 1); yy++) {
        for (let xx = Math.max(0, x - 1); xx <= Math.min(w - 1, x + 1); xx++) {
          if (mask[yy * w + xx]) { sum += data[3 * (yy * w + xx) + c] as number; n++; }
        }
      }
      out[3 * (y * w + x) + c] = Math.round(sum / n);
    }
  }
  return { width: w, height: h, data: out };
}

/** See ObjectScores.subjectPreserved. */
function subjectAgreement(found: DetectedObject[], subj: WorldObject, entity: RgbImage, out: RgbImage): number {
  const d = findLike(found, subj);
  // The subject is located in its entity image the same way, and the two bboxes are aligned
  // (scaled when sizes differ): bboxes are exact, while the inferred box can be ambiguous by a pixel.
  const e = findLike(detectObjects(entity), subj);
  if (!d || !e || d.area === 0) return 0;
  const [bx, by, bw, bh] = d.bbox, [ex0, ey0, ew, eh] = e.bbox;
  const [o, en] = [maskedBlur(out, d.mask), maskedBlur(entity, e.mask)];
  // The object's interior: a blurred edge mixes with whatever is behind it, in either image.
  const w = out.width, m = d.mask;
  const inner = (p: number) => {
    const x = p % w;
    return x > 0 && x < w - 1 && m[p] && m[p - 1] && m[p + 1] && m[p - w] && m[p + w];
  };
  let n = 0;
  for (let p = 0; p < m.length; p++) if (inner(p)) n++;
  const counted = n > 0 ? inner : (p: number) => m[p] === 1;
  let ok = 0;
  for (let p = 0; p < m.length; p++) {
    if (!counted(p)) continue;
    const x = p % out.width, y = (p - x) / out.width;
    const ex = ex0 + Math.floor(((x - bx + 0.5) * ew) / bw), ey = ey0 + Math.floor(((y - by + 0.5) * eh) / bh);
    const k = 3 * (ey * entity.width + ex);
    let close = true;
    for (let c = 0; c < 3; c++) if (Math.abs((o.data[3 * p + c] as number) - (en.data[k + c] as number)) > SUBJECT_TOLERANCE) close = false;
    if (close) ok++;
  }
  return ok / (n > 0 ? n : d.area);
}

/** Scores an output against an example's annotations (see ObjectScores for the definitions). */
export function objectScores(ex: WorldExample, out: RgbImage): ObjectScores {
  return scoresOf(ex, out, detectObjects(out));
}

/** objectScores and objectFailure from one detection pass (what evaluate needs per case). */
export function objectScoresAndFailure(ex: WorldExample, out: RgbImage): { scores: ObjectScores; failure: ObjectFailure | null } {
  const found = detectObjects(out);
  return { scores: scoresOf(ex, out, found), failure: failureOf(ex, out, found) };
}

function scoresOf(ex: WorldExample, out: RgbImage, found: DetectedObject[]): ObjectScores {
  const target = ex.annotations.target.objects;
  const editIdx = typeof ex.annotations.edit.object === 'number' ? ex.annotations.edit.object : -1;
  let instructed: number;
  switch (ex.task) {
    case 'remove': {
      const gone = ex.annotations.source?.objects[editIdx];
      instructed = gone && findLike(found, gone) ? 0 : 1;
      break;
    }
    case 'background':
      instructed = backgroundRight(ex, out) ? 1 : 0;
      break;
    case 'subject':
      instructed = target.length === 0 ? 1 : target.filter((o) => placedRight(found, o, out, false)).length / target.length;
      break;
    default: {
      const ann = target[editIdx];
      instructed = ann && placedRight(found, ann, out, ex.task === 'resize') ? 1 : 0;
    }
  }
  let othersUnchanged: number | null = null;
  if (ex.task !== 'subject') {
    const n = out.width * out.height;
    // remove and background edit no target object, so every target object is an "other" one.
    const skip = ex.task === 'remove' || ex.task === 'background' ? -1 : editIdx;
    const others = target.filter((_, i) => i !== skip);
    if (others.length) {
      const kept = others.filter((o) => {
        const d = findLike(found, o);
        return d !== undefined && maskIou(d.mask, rleToMask(o.mask, n)) >= KEPT_IOU;
      });
      othersUnchanged = kept.length / others.length;
    }
  }
  let subjectPreserved: number | null = null;
  const pairs = ex.annotations.subjects
    .map((s, i) => [s, ex.entities[i]] as const)
    .filter((p): p is readonly [WorldObject, RgbImage] => p[0] !== null && p[1] !== undefined);
  if (pairs.length) {
    subjectPreserved = pairs.reduce((acc, [s, e]) => acc + subjectAgreement(found, s, e, out), 0) / pairs.length;
  }
  return { instructed, othersUnchanged, subjectPreserved };
}

/**
 * Why an output fails a task that places one object (recolor, add, move, resize, compose_add,
 * compose_replace), looking where `instructed` looks:
 * - right: `instructed` passes;
 * - wrong-size: (resize) the asked shape and colour in the asked region, at another size;
 * - not-moved: (move) the asked shape and colour, still in the source object's region;
 * - wrong-place: the asked shape and colour in another region;
 * - wrong-shape: an object of the asked colour in the asked region, detected as another shape;
 * - colour-astray: the asked colour only elsewhere, as another shape;
 * - absent: no object of the asked colour.
 */
export type ObjectFailure = 'right' | 'wrong-size' | 'not-moved' | 'wrong-place' | 'wrong-shape' | 'colour-astray' | 'absent';
export const OBJECT_FAILURES: readonly ObjectFailure[] = ['right', 'wrong-size', 'not-moved', 'wrong-place', 'wrong-shape', 'colour-astray', 'absent'];
const PLACING_TASKS: readonly WorldExample['task'][] = ['recolor', 'add', 'move', 'resize', 'compose_add', 'compose_replace'];

/** See ObjectFailure; null for tasks that place no single object (subject, remove, background). */
export function objectFailure(ex: WorldExample, out: RgbImage): ObjectFailure | null {
  return failureOf(ex, out, detectObjects(out));
}

function failureOf(ex: WorldExample, out: RgbImage, found: DetectedObject[]): ObjectFailure | null {
  if (!PLACING_TASKS.includes(ex.task)) return null;
  const idx = ex.annotations.edit.object;
  const want = typeof idx === 'number' ? ex.annotations.target.objects[idx] : undefined;
  if (!want) throw new Error(`objectFailure: a ${ex.task} example without its edited object's annotation`);
  if (placedRight(found, want, out, ex.task === 'resize')) return 'right';
  const region = REGION_OF(want.bbox, out.width, out.height);
  const same = findLike(found, want);
  if (same) {
    const at = REGION_OF(same.bbox, out.width, out.height);
    if (at === region) return 'wrong-size';
    const from = ex.annotations.source?.objects[idx as number];
    return ex.task === 'move' && from && at === REGION_OF(from.bbox, out.width, out.height) ? 'not-moved' : 'wrong-place';
  }
  const coloured = found.filter((d) => d.color === want.color);
  if (coloured.some((d) => REGION_OF(d.bbox, out.width, out.height) === region)) return 'wrong-shape';
  return coloured.length ? 'colour-astray' : 'absent';
}
