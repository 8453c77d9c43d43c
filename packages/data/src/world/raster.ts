import type { RgbImage } from '@mige/core';
import { colorRgb, paleRgb, shadeRgb, SUBJECT_BACKGROUND, type Rgb } from './palette.js';
import { insideShape, patternOn } from './shapes.js';
import type { Background, ObjectAnnotation, RleMask, Scene, SceneAnnotation, WorldObject } from './types.js';

function fillBackground(data: Uint8Array, w: number, h: number, bg: Background): void {
  const a = paleRgb(bg.color), b = paleRgb(bg.color2);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let r = a[0], g = a[1], bl = a[2];
      if (bg.kind === 'vgradient' || bg.kind === 'hgradient') {
        const t = bg.kind === 'vgradient' ? y / Math.max(1, h - 1) : x / Math.max(1, w - 1);
        r = Math.round(a[0] + (b[0] - a[0]) * t);
        g = Math.round(a[1] + (b[1] - a[1]) * t);
        bl = Math.round(a[2] + (b[2] - a[2]) * t);
      } else if (bg.kind === 'texture' && (x + 2 * y) % 7 < 2) {
        // Thin darker diagonals: a texture cheap to draw and exact to reproduce.
        r -= 24; g -= 24; bl -= 24;
      }
      const o = (y * w + x) * 3;
      data[o] = r; data[o + 1] = g; data[o + 2] = bl;
    }
  }
}

/** Draws one object (pixel-centre sampling, no anti-aliasing, so masks are exact) and returns its mask. */
export function drawObject(img: RgbImage, obj: WorldObject, mask?: Uint8Array): Uint8Array {
  const { width: w, height: h, data } = img;
  const out = mask ?? new Uint8Array(w * h);
  const main = colorRgb(obj.color), alt = shadeRgb(obj.color);
  const s = obj.size;
  for (let j = 0; j < s; j++) {
    const py = obj.y + j;
    if (py < 0 || py >= h) continue;
    const v = ((j + 0.5) / s) * 2 - 1;
    for (let i = 0; i < s; i++) {
      const px = obj.x + i;
      if (px < 0 || px >= w) continue;
      if (!insideShape(obj.shape, ((i + 0.5) / s) * 2 - 1, v)) continue;
      const c: Rgb = patternOn(obj.pattern, i, j, s) ? alt : main;
      const o = (py * w + px) * 3;
      data[o] = c[0]; data[o + 1] = c[1]; data[o + 2] = c[2];
      out[py * w + px] = 1;
    }
  }
  return out;
}

export interface RenderedScene {
  image: RgbImage;
  /** Visible-pixel masks, one per object, in draw order (later objects occlude earlier ones). */
  masks: Uint8Array[];
}

export function renderScene(scene: Scene): RenderedScene {
  const { width: w, height: h } = scene;
  const image: RgbImage = { width: w, height: h, data: new Uint8Array(w * h * 3) };
  fillBackground(image.data, w, h, scene.background);
  const masks: Uint8Array[] = [];
  for (const obj of scene.objects) {
    const m = drawObject(image, obj);
    for (const prev of masks) for (let k = 0; k < m.length; k++) if (m[k]) prev[k] = 0;
    masks.push(m);
  }
  return { image, masks };
}

/** The object alone, centred on a plain white canvas of the given size, drawn the same way. */
export function renderSubject(obj: WorldObject, width: number, height: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  const [r, g, b] = SUBJECT_BACKGROUND;
  for (let k = 0; k < data.length; k += 3) { data[k] = r; data[k + 1] = g; data[k + 2] = b; }
  const img: RgbImage = { width, height, data };
  drawObject(img, centred(obj, width, height));
  return img;
}

export function centred(obj: WorldObject, width: number, height: number): WorldObject {
  return { ...obj, x: Math.floor((width - obj.size) / 2), y: Math.floor((height - obj.size) / 2) };
}

export function maskToRle(mask: Uint8Array): RleMask {
  const counts: number[] = [];
  let cur = 0, run = 0;
  for (let k = 0; k < mask.length; k++) {
    const v = mask[k] ? 1 : 0;
    if (v !== cur) { counts.push(run); run = 0; cur = v; }
    run++;
  }
  counts.push(run);
  return { counts };
}

export function rleToMask(rle: RleMask, length: number): Uint8Array {
  const mask = new Uint8Array(length);
  let k = 0, v = 0;
  for (const n of rle.counts) { if (v) mask.fill(1, k, k + n); k += n; v ^= 1; }
  return mask;
}

function annotateObject(obj: WorldObject, mask: Uint8Array, w: number): ObjectAnnotation {
  let x0 = Infinity, y0 = Infinity, x1 = -1, y1 = -1, area = 0;
  for (let k = 0; k < mask.length; k++) {
    if (!mask[k]) continue;
    const x = k % w, y = (k - x) / w;
    area++;
    if (x < x0) x0 = x; if (x > x1) x1 = x; if (y < y0) y0 = y; if (y > y1) y1 = y;
  }
  const bbox: [number, number, number, number] = area ? [x0, y0, x1 - x0 + 1, y1 - y0 + 1] : [0, 0, 0, 0];
  return { shape: obj.shape, color: obj.color, pattern: obj.pattern, size: obj.size, bbox, area, mask: maskToRle(mask) };
}

export function annotateScene(scene: Scene, rendered: RenderedScene): SceneAnnotation {
  return {
    background: { ...scene.background },
    objects: scene.objects.map((o, i) => annotateObject(o, rendered.masks[i] as Uint8Array, scene.width)),
  };
}
