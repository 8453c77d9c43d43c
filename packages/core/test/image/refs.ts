import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import type { RgbImage } from '../../src/image/index.js';

/** Test data written by test/data/image/gen_image_refs.py (PIL / torchvision reference outputs). */
export const DATA_DIR = fileURLToPath(new URL('../data/image/', import.meta.url));

export interface RefEntry {
  name: string;
  op: string;
  input?: string;
  dtype: 'uint8' | 'float32';
  /** As stored: [H, W, 3] for uint8 images, [3, H, W] for float32 CHW tensors. */
  shape: number[];
  offset: number;
  length: number;
  width?: number;
  height?: number;
  size?: number;
  filter?: 'nearest' | 'bilinear' | 'bicubic';
  pilMode?: string;
  mean?: [number, number, number];
  std?: [number, number, number];
}

interface Manifest {
  versions: Record<string, string>;
  entries: RefEntry[];
}

export const manifest = JSON.parse(readFileSync(`${DATA_DIR}refs.json`, 'utf8')) as Manifest;
const blob = gunzipSync(readFileSync(`${DATA_DIR}refs.bin.gz`));

export function refsWithOp(op: string): RefEntry[] {
  return manifest.entries.filter((e) => e.op === op);
}

export function refNamed(name: string): RefEntry {
  const entry = manifest.entries.find((e) => e.name === name);
  if (!entry) throw new Error(`no reference named ${name}`);
  return entry;
}

export function refBytes(entry: RefEntry): Uint8Array {
  if (entry.dtype !== 'uint8') throw new Error(`${entry.name} is ${entry.dtype}`);
  return new Uint8Array(blob.subarray(entry.offset, entry.offset + entry.length));
}

export function refFloats(entry: RefEntry): Float32Array {
  if (entry.dtype !== 'float32') throw new Error(`${entry.name} is ${entry.dtype}`);
  // Copy: the blob offset need not be 4-byte aligned.
  const bytes = blob.subarray(entry.offset, entry.offset + entry.length);
  return new Float32Array(new Uint8Array(bytes).buffer);
}

/** A uint8 [H, W, 3] reference as an image. */
export function refImage(entry: RefEntry): RgbImage {
  const [height, width, channels] = entry.shape;
  if (height === undefined || width === undefined || channels !== 3) throw new Error(`${entry.name} is not HWC RGB`);
  return { width, height, data: refBytes(entry) };
}

/** The pixel-op input an entry names ('noise_rgb.png', 'noise_rgb.png:T', 'photo_rgb.png', 'ramp'). */
export function inputImage(entry: RefEntry): RgbImage {
  return refImage(refNamed(`input:${entry.input ?? ''}`));
}

/** Largest |a[i] - b[i]|; arrays must have equal length. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs((a[i] as number) - (b[i] as number)));
  return max;
}

/** Number of positions where a and b differ. */
export function countDiffs(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let n = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) n++;
  return n;
}
