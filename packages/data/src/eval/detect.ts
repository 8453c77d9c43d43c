import type { RgbImage } from '@mige/core';
import { COLOR_NAMES, colorRgb, shadeRgb, type ColorName, type Rgb } from '../world/palette.js';
import { drawObject } from '../world/raster.js';
import { PATTERN_NAMES, SHAPE_NAMES, patternOn, type PatternName, type ShapeName } from '../world/shapes.js';

/** One object found in an image. `size`, `x`, `y` are the inferred square box the world drew it in. */
export interface DetectedObject {
  shape: ShapeName;
  color: ColorName;
  pattern: PatternName;
  /** [x, y, width, height] of the component's pixels. */
  bbox: [number, number, number, number];
  area: number;
  /** Full-image mask (1 = the object's pixel). */
  mask: Uint8Array;
  size: number;
  x: number;
  y: number;
  /** IoU of the component with the best-matching rendered shape: how sure the shape is. */
  iou: number;
}

export interface DetectOptions {
  /** Pixels of exactly this colour are never object pixels (e.g. a model's known background). */
  background?: Rgb;
  /** Smaller components are noise (stray pixels in a model's output), not objects. Default 6. */
  minArea?: number;
}

// Palette lookup. The world draws without anti-aliasing, so on a rendered image an object pixel is
// exactly its colour or that colour's pattern shade. A model's output never is: its VAE blurs
// edges and patterns and shifts colours. So a pixel takes the nearest object colour within
// MAX_COLOR_DIST: main, shade, or their even blend (a blurred pattern). Pale pixels (every channel
// >= PALE_MIN: every background with its texture, and white) are background: object colours all
// have a channel <= 120 and rendered backgrounds none below 154: the cut is halfway.
const PALE_MIN = 137;
const MAX_COLOR_DIST = 80;
const key = (r: number, g: number, b: number): number => (r << 16) | (g << 8) | b;
const blend = (a: Rgb, b: Rgb): Rgb => [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2, (a[2] + b[2]) / 2];
const OBJECT_COLORS = COLOR_NAMES.flatMap((name, i) => [
  { rgb: colorRgb(name), color: i, shade: false },
  { rgb: shadeRgb(name), color: i, shade: true },
  { rgb: blend(colorRgb(name), shadeRgb(name)), color: i, shade: false },
]);
const NONE = { color: -1, shade: false };
const lookup = new Map<number, { color: number; shade: boolean }>();
function classify(r: number, g: number, b: number): { color: number; shade: boolean } {
  const k = key(r, g, b);
  const hit = lookup.get(k);
  if (hit) return hit;
  let best = NONE, bestD = MAX_COLOR_DIST * MAX_COLOR_DIST;
  if (Math.min(r, g, b) < PALE_MIN) {
    for (const c of OBJECT_COLORS) {
      const d = (r - c.rgb[0]) ** 2 + (g - c.rgb[1]) ** 2 + (b - c.rgb[2]) ** 2;
      if (d < bestD) { bestD = d; best = c; }
    }
  }
  if (lookup.size < 1 << 20) lookup.set(k, best);
  return best;
}

// Shape masks rendered by the world's own rasteriser, cached per (shape, size): shape matching
// then compares against exactly what the generator would have drawn.
const shapeCache = new Map<string, { mask: Uint8Array; bbox: [number, number, number, number] }>();
function shapeMask(shape: ShapeName, size: number): { mask: Uint8Array; bbox: [number, number, number, number] } {
  const k = `${shape}:${size}`;
  const hit = shapeCache.get(k);
  if (hit) return hit;
  const img: RgbImage = { width: size, height: size, data: new Uint8Array(size * size * 3) };
  const mask = drawObject(img, { shape, color: 'red', pattern: 'solid', size, x: 0, y: 0 });
  let x0 = size, y0 = size, x1 = -1, y1 = -1;
  for (let j = 0; j < size; j++) for (let i = 0; i < size; i++) {
    if (!mask[j * size + i]) continue;
    if (i < x0) x0 = i; if (i > x1) x1 = i; if (j < y0) y0 = j; if (j > y1) y1 = j;
  }
  const entry = { mask, bbox: [x0, y0, x1 - x0 + 1, y1 - y0 + 1] as [number, number, number, number] };
  shapeCache.set(k, entry);
  return entry;
}

interface Component { color: number; pixels: number[]; bbox: [number, number, number, number] }

/**
 * A blurred object is fringed by mixed colours that read as another palette colour (red over a
 * pale background reads pink at its edge, a brown pattern's shade black). Within each connected
 * patch of object pixels, a colour is kept only if it is a third of the patch or has a body of
 * its own (MIN_BODY pixels whose 4 neighbours share it); other pixels take the patch's main colour.
 * On exact renders every colour has a body, so nothing changes there.
 */
const MIN_BODY = 9;
function absorbFringes(labels: Int16Array, w: number, h: number): void {
  const seen = new Uint8Array(w * h);
  for (let start = 0; start < w * h; start++) {
    if (labels[start] as number < 0 || seen[start]) continue;
    const patch = flood(start, w, h, seen, (q) => (labels[q] as number) >= 0);
    const count = new Map<number, number>(), body = new Map<number, number>();
    for (const p of patch) {
      const c = labels[p] as number;
      count.set(c, (count.get(c) ?? 0) + 1);
      const x = p % w;
      if (x > 0 && x < w - 1 && p >= w && p < w * (h - 1) && labels[p - 1] === c && labels[p + 1] === c && labels[p - w] === c && labels[p + w] === c) {
        body.set(c, (body.get(c) ?? 0) + 1);
      }
    }
    if (count.size < 2) continue;
    const main = [...count.entries()].reduce((a, b) => (b[1] > a[1] ? b : a))[0];
    const keep = (c: number) => (count.get(c) as number) >= patch.length / 3 || (body.get(c) ?? 0) >= MIN_BODY;
    for (const p of patch) if (!keep(labels[p] as number)) labels[p] = main;
  }
}

/** The 8-connected region of `start` over the pixels `joins` accepts; marks them in `seen`. */
function flood(start: number, w: number, h: number, seen: Uint8Array, joins: (q: number) => boolean): number[] {
  const pixels: number[] = [];
  const stack = [start];
  seen[start] = 1;
  while (stack.length) {
    const p = stack.pop() as number;
    pixels.push(p);
    const x = p % w, y = (p - x) / w;
    for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) {
      const nx = x + dx, ny = y + dy;
      if (nx < 0 || ny < 0 || nx >= w || ny >= h) continue;
      const q = ny * w + nx;
      if (!seen[q] && joins(q)) { seen[q] = 1; stack.push(q); }
    }
  }
  return pixels;
}

/** 8-connected components of same-colour (main or shade) pixels. */
function components(image: RgbImage, labels: Int16Array): Component[] {
  const { width: w, height: h } = image;
  const seen = new Uint8Array(w * h);
  const out: Component[] = [];
  for (let start = 0; start < w * h; start++) {
    const color = labels[start] as number;
    if (color < 0 || seen[start]) continue;
    const pixels = flood(start, w, h, seen, (q) => labels[q] === color);
    let x0 = w, y0 = h, x1 = -1, y1 = -1;
    for (const p of pixels) {
      const x = p % w, y = (p - x) / w;
      if (x < x0) x0 = x; if (x > x1) x1 = x; if (y < y0) y0 = y; if (y > y1) y1 = y;
    }
    out.push({ color, pixels, bbox: [x0, y0, x1 - x0 + 1, y1 - y0 + 1] });
  }
  return out;
}

/**
 * Best (shape, size, box origin) for a component: every shape at every box size whose rendered
 * tight bbox has the component's width and height, placed so the bboxes coincide; scored by IoU.
 */
interface ShapeFit { shape: ShapeName; size: number; x: number; y: number; iou: number }

/**
 * The best-IoU fits, all of them: several box sizes can draw the very same pixels, and only the
 * pattern's phase (which depends on the box) tells them apart.
 */
function matchShape(comp: Component, mask: Uint8Array, w: number): ShapeFit[] {
  const [bx, by, bw, bh] = comp.bbox;
  const side = Math.max(bw, bh);
  let best: ShapeFit[] = [{ shape: SHAPE_NAMES[0] as ShapeName, size: side, x: bx, y: by, iou: 0 }];
  // No shape fills less than 80% of its box side, so larger boxes cannot give this bbox.
  const maxSize = Math.ceil(side / 0.8) + 1;
  for (const shape of SHAPE_NAMES) {
    for (let s = side; s <= maxSize; s++) {
      const r = shapeMask(shape, s);
      // Allow a 2 px slack: a blurred output rarely hits the exact bbox.
      if (Math.abs(r.bbox[2] - bw) > 2 || Math.abs(r.bbox[3] - bh) > 2) continue;
      const ox = bx - r.bbox[0], oy = by - r.bbox[1];
      let inter = 0, rArea = 0;
      for (let j = 0; j < s; j++) for (let i = 0; i < s; i++) {
        if (!r.mask[j * s + i]) continue;
        rArea++;
        const x = ox + i, y = oy + j;
        if (x >= 0 && y >= 0 && x < w && y * w + x < mask.length && mask[y * w + x]) inter++;
      }
      const iou = inter / (rArea + comp.pixels.length - inter);
      const top = (best[0] as ShapeFit).iou;
      const fit = { shape, size: s, x: ox, y: oy, iou };
      if (iou > top + 1e-9) best = [fit];
      else if (iou > top - 1e-9) best.push(fit);
    }
  }
  return best;
}

/** The pattern whose second-colour pixels agree best with the component's shade pixels. */
function matchPattern(comp: Component, shade: Uint8Array, w: number, size: number, ox: number, oy: number): { pattern: PatternName; bad: number } {
  let best: PatternName = 'solid', bestBad = Infinity;
  for (const pattern of PATTERN_NAMES) {
    let bad = 0;
    for (const p of comp.pixels) {
      const x = p % w, y = (p - x) / w;
      if (patternOn(pattern, x - ox, y - oy, size) !== (shade[p] === 1)) bad++;
    }
    if (bad < bestBad) { bestBad = bad; best = pattern; }
  }
  return { pattern: best, bad: bestBad };
}

/** Finds the world's objects in an image by palette segmentation and shape matching. */
export function detectObjects(image: RgbImage, options: DetectOptions = {}): DetectedObject[] {
  const { width: w, height: h, data } = image;
  const minArea = options.minArea ?? 6;
  const bg = options.background ? key(...options.background) : -1;
  const labels = new Int16Array(w * h).fill(-1);
  const shade = new Uint8Array(w * h);
  for (let p = 0; p < w * h; p++) {
    const k = key(data[3 * p] as number, data[3 * p + 1] as number, data[3 * p + 2] as number);
    if (k === bg) continue;
    const hit = classify(data[3 * p] as number, data[3 * p + 1] as number, data[3 * p + 2] as number);
    if (hit.color < 0) continue;
    labels[p] = hit.color;
    shade[p] = hit.shade ? 1 : 0;
  }
  absorbFringes(labels, w, h);
  const found: DetectedObject[] = [];
  for (const comp of components(image, labels)) {
    if (comp.pixels.length < minArea) continue;
    const mask = new Uint8Array(w * h);
    for (const p of comp.pixels) mask[p] = 1;
    const fits = matchShape(comp, mask, w);
    let m = fits[0] as ShapeFit;
    let pat = matchPattern(comp, shade, w, m.size, m.x, m.y);
    for (const fit of fits.slice(1)) {
      const p = matchPattern(comp, shade, w, fit.size, fit.x, fit.y);
      if (p.bad < pat.bad) { m = fit; pat = p; }
    }
    found.push({
      shape: m.shape, color: COLOR_NAMES[comp.color] as ColorName,
      pattern: pat.pattern,
      bbox: comp.bbox, area: comp.pixels.length, mask, size: m.size, x: m.x, y: m.y, iou: m.iou,
    });
  }
  return found;
}
