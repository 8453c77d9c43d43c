import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MigeInputError } from '../../src/errors.js';
import { decodeImage, encodeImage, formatFromPath, writeImage, type RgbImage } from '../../src/image/index.js';
import { maxAbsDiff, refImage, refNamed } from './refs.js';

const noise = refImage(refNamed('input:noise_rgb.png'));
const photo = refImage(refNamed('input:photo_rgb.png'));
const tmp = mkdtempSync(join(tmpdir(), 'mige-image-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function meanAbsDiff(a: Uint8Array, b: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i]! - b[i]!);
  return sum / a.length;
}

describe('encode → decode round trips', () => {
  it('PNG is exact', async () => {
    const png = await encodeImage(noise, 'png');
    expect([...png.subarray(0, 4)]).toEqual([0x89, 0x50, 0x4e, 0x47]);
    expect(await decodeImage(png)).toEqual(noise);
  });

  it('lossless WebP is exact', async () => {
    const webp = await encodeImage(noise, 'webp', { lossless: true });
    expect(new TextDecoder().decode(webp.subarray(8, 12))).toBe('WEBP');
    expect(await decodeImage(webp)).toEqual(noise);
  });

  it('JPEG quality 95 stays within a few levels on a smooth image', async () => {
    const jpeg = await encodeImage(photo, 'jpeg', { quality: 95 });
    expect([...jpeg.subarray(0, 3)]).toEqual([0xff, 0xd8, 0xff]);
    const back = await decodeImage(jpeg);
    expect([back.width, back.height]).toEqual([96, 64]);
    // 4:2:0 chroma subsampling of this noisy image dominates: measured mean 4.3, max 28 levels.
    expect(meanAbsDiff(back.data, photo.data)).toBeLessThan(6);
    expect(maxAbsDiff(back.data, photo.data)).toBeLessThan(40);
  });

  it('lossy WebP stays close', async () => {
    const back = await decodeImage(await encodeImage(photo, 'webp', { quality: 90 }));
    // Measured mean 4.5, max 31 levels (also 4:2:0 chroma).
    expect(meanAbsDiff(back.data, photo.data)).toBeLessThan(6);
    expect(maxAbsDiff(back.data, photo.data)).toBeLessThan(45);
  });

  it('rejects bad options and images', async () => {
    await expect(encodeImage(noise, 'jpeg', { quality: 0 })).rejects.toThrow(/quality must be an integer in 1\.\.100, got 0/);
    await expect(encodeImage(noise, 'png', { compressionLevel: 10 })).rejects.toThrow(/compressionLevel must be an integer in 0\.\.9/);
    await expect(encodeImage(noise, 'gif' as 'png')).rejects.toThrow(/unsupported output format 'gif'/);
    const broken: RgbImage = { width: 4, height: 4, data: new Uint8Array(10) };
    await expect(encodeImage(broken, 'png')).rejects.toBeInstanceOf(MigeInputError);
  });
});

describe('writeImage', () => {
  it('picks the format from the extension and leaves no temporary file', async () => {
    for (const [name, magic] of [['a.png', 'PNG'], ['b.JPG', 'JFIF'], ['c.jpeg', 'JFIF'], ['d.webp', 'WEBP']] as const) {
      await writeImage(join(tmp, name), noise);
      const img = await decodeImage(join(tmp, name));
      expect([img.width, img.height]).toEqual([37, 23]);
      expect(formatFromPath(name)).toBe({ PNG: 'png', JFIF: 'jpeg', WEBP: 'webp' }[magic]);
    }
    expect(readdirSync(tmp).sort()).toEqual(['a.png', 'b.JPG', 'c.jpeg', 'd.webp']);
    expect(await decodeImage(join(tmp, 'a.png'))).toEqual(noise);
  });

  it('replaces an existing file in one step', async () => {
    const path = join(tmp, 'replace.png');
    writeFileSync(path, 'old contents');
    await writeImage(path, photo);
    expect(await decodeImage(path)).toEqual(photo);
  });

  it('rejects unknown extensions and unwritable paths', async () => {
    await expect(writeImage(join(tmp, 'x.gif'), noise)).rejects.toThrow(
      /x\.gif: cannot tell the image format from the extension \(use \.png, \.jpg, \.jpeg or \.webp\)/,
    );
    await expect(writeImage(join(tmp, 'no-such-dir', 'x.png'), noise)).rejects.toThrow(/cannot write image: .*ENOENT/);
    expect(readdirSync(tmp).some((f) => f.endsWith('.tmp'))).toBe(false);
  });
});
