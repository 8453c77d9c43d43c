import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeImage } from '../../src/image/index.js';
import { DATA_DIR, maxAbsDiff, refImage, refsWithOp } from './refs.js';

/**
 * Lossy formats: PIL decodes JPEG with the system libjpeg(-turbo) and WebP with the system
 * libwebp, sharp with its bundled builds. Both use the same integer IDCT and upsampling, so the
 * pixels agree exactly in practice (measured: max diff 0 on every file here), but a different
 * library build may legitimately move a value by 1-2 levels, so that is what is allowed.
 */
const LOSSY_TOLERANCE = 2;
const LOSSY_MEAN_TOLERANCE = 0.25;

function meanAbsDiff(a: Uint8Array, b: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i]! - b[i]!);
  return sum / a.length;
}

describe("decodeImage matches PIL's Image.open(p).convert('RGB')", () => {
  const cases = refsWithOp('decode');
  it('covers every PIL mode a PNG/JPEG/WebP opens as', () => {
    expect(new Set(cases.map((c) => c.pilMode))).toEqual(new Set(['RGB', 'RGBA', 'L', 'LA', 'P', '1', 'I', 'CMYK']));
  });

  it.each(cases.map((c) => [`${c.input} (PIL mode ${c.pilMode})`, c] as const))('%s', async (_name, ref) => {
    const expected = refImage(ref);
    const file = ref.input!;
    const img = await decodeImage(`${DATA_DIR}${file}`);
    expect([img.width, img.height]).toEqual([expected.width, expected.height]);
    const lossy = file.endsWith('.jpg') || file === 'photo_lossy.webp';
    if (lossy) {
      expect(maxAbsDiff(img.data, expected.data)).toBeLessThanOrEqual(LOSSY_TOLERANCE);
      expect(meanAbsDiff(img.data, expected.data)).toBeLessThanOrEqual(LOSSY_MEAN_TOLERANCE);
    } else {
      expect(maxAbsDiff(img.data, expected.data)).toBe(0);
    }
  });

  it('decodes bytes the same as the path', async () => {
    const fromPath = await decodeImage(`${DATA_DIR}alpha_rgba.png`);
    const bytes = readFileSync(`${DATA_DIR}alpha_rgba.png`);
    // A view into a larger buffer, to check offsets are respected.
    const padded = new Uint8Array(bytes.length + 10);
    padded.set(bytes, 5);
    const fromBytes = await decodeImage(padded.subarray(5, 5 + bytes.length));
    expect(fromBytes).toEqual(fromPath);
  });

  it('drops alpha without compositing: fully transparent pixels keep their colour', async () => {
    const rgba = await decodeImage(`${DATA_DIR}alpha_rgba.png`);
    const rgb = await decodeImage(`${DATA_DIR}noise_rgb.png`);
    // Row 0 of alpha_rgba.png has alpha 0 but the same RGB as noise_rgb.png.
    expect(rgba.data.subarray(0, 37 * 3)).toEqual(rgb.data.subarray(0, 37 * 3));
    expect(rgba.data).toEqual(rgb.data);
  });

  it('clips 16-bit grey at 255 like PIL (not scaled)', async () => {
    const img = await decodeImage(`${DATA_DIR}gray_16bit.png`);
    // Rows 6+ hold random 0..65535: all but ~0.4% are over 255 and become 255.
    const rest = img.data.subarray(6 * 37 * 3);
    const saturated = rest.filter((v) => v === 255).length;
    expect(saturated / rest.length).toBeGreaterThan(0.97);
    // Rows 0-5 hold 0..399: values under 255 survive unchanged.
    expect(img.data.subarray(0, 6 * 37 * 3).some((v) => v > 0 && v < 255)).toBe(true);
  });

  it('does not apply EXIF orientation (PIL does not either)', async () => {
    const rotated = await decodeImage(`${DATA_DIR}photo_exif_rot90.jpg`);
    const plain = await decodeImage(`${DATA_DIR}photo_420.jpg`);
    expect([rotated.width, rotated.height]).toEqual([96, 64]);
    expect(rotated.data).toEqual(plain.data);
  });
});
