import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MigeInputError } from '../../src/errors.js';
import { decodeImage } from '../../src/image/index.js';
import { DATA_DIR } from './refs.js';

const read = (file: string) => new Uint8Array(readFileSync(`${DATA_DIR}${file}`));
const tmp = mkdtempSync(join(tmpdir(), 'mige-image-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Resolves to the MigeInputError the decode throws (fails the test if it resolves). */
async function decodeError(input: string | Uint8Array, opts = {}): Promise<MigeInputError> {
  const err: unknown = await decodeImage(input, opts).then(
    () => new Error('decoded without error'),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(MigeInputError);
  return err as MigeInputError;
}

describe('decodeImage rejects bad input with a specific MigeInputError', () => {
  it('empty input', async () => {
    const err = await decodeError(new Uint8Array(0));
    expect(err.message).toBe('buffer: empty input (0 bytes)');
    expect(err.where).toBe('buffer');
    const empty = join(tmp, 'empty.png');
    writeFileSync(empty, '');
    expect((await decodeError(empty)).message).toBe(`${empty}: empty input (0 bytes)`);
  });

  it('missing file and directory', async () => {
    const missing = join(tmp, 'nope.png');
    const err = await decodeError(missing);
    expect(err.message).toBe(`${missing}: file not found`);
    expect(err.where).toBe(missing);
    expect((await decodeError(tmp)).message).toBe(`${tmp}: is not a regular file`);
  });

  it('random bytes', async () => {
    let seed = 12345;
    const noise = Uint8Array.from({ length: 4096 }, () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 24));
    expect((await decodeError(noise)).message).toMatch(
      /^buffer: unrecognised image format, first bytes [0-9a-f ]{23} \(supported: PNG, JPEG, WebP\)$/,
    );
  });

  it('a valid signature followed by garbage', async () => {
    const png = read('noise_rgb.png');
    const bad = png.slice(0, 64);
    bad.fill(0x55, 8);
    expect((await decodeError(bad)).message).toMatch(/^buffer: corrupt PNG header: /);
    const jpeg = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect((await decodeError(jpeg)).message).toMatch(/^buffer: corrupt JPEG header: /);
    const webp = new TextEncoder().encode('RIFF\x10\x00\x00\x00WEBPVP8 garbage!');
    expect((await decodeError(webp)).message).toMatch(/^buffer: corrupt WebP header: /);
  });

  it('corrupt PNG pixel data (damaged IDAT)', async () => {
    const png = read('photo_rgb.png');
    const bad = png.slice();
    for (let i = 200; i < 260; i++) bad[i] = bad[i]! ^ 0xa5;
    expect((await decodeError(bad)).message).toMatch(/^buffer: cannot decode PNG \(corrupt or truncated data\): /);
  });

  describe('truncated files', () => {
    const cuts: [string, number][] = [];
    for (const file of ['photo_rgb.png', 'photo_420.jpg', 'photo_progressive.jpg', 'photo_lossy.webp', 'noise_lossless.webp']) {
      const n = read(file).length;
      cuts.push([file, Math.floor(n / 2)], [file, Math.floor(n * 0.9)]);
      if (!file.endsWith('.png')) cuts.push([file, n - 2]); // JPEG: just the EOI marker missing
    }
    it.each(cuts)('%s cut to %i bytes', async (file, length) => {
      const err = await decodeError(read(file).subarray(0, length), { label: `cut:${file}` });
      expect(err.where).toBe(`cut:${file}`);
      expect(err.message).toMatch(/^cut:\S+: (corrupt (PNG|JPEG|WebP) header|cannot decode (PNG|JPEG|WebP) \(corrupt or truncated data\)): /);
    });

    it('a truncated JPEG is rejected at the pixel stage, its header being intact', async () => {
      const jpeg = read('photo_420.jpg');
      const err = await decodeError(jpeg.subarray(0, jpeg.length - 2));
      expect(err.message).toMatch(/cannot decode JPEG \(corrupt or truncated data\): .*premature end of JPEG/i);
    });

    it('a PNG missing only its IEND chunk still decodes (as in PIL)', async () => {
      const png = read('noise_rgb.png');
      const img = await decodeImage(png.subarray(0, png.length - 12));
      expect([img.width, img.height]).toEqual([37, 23]);
    });
  });

  it('unsupported formats: GIF, SVG (can reference external files), BMP, TIFF', async () => {
    expect((await decodeError(`${DATA_DIR}noise.gif`)).message).toBe(
      `${DATA_DIR}noise.gif: GIF images are not supported (supported: PNG, JPEG, WebP)`,
    );
    const svg = new TextEncoder().encode(
      '\uFEFF<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"><image href="file:///etc/passwd"/></svg>',
    );
    expect((await decodeError(svg)).message).toBe('buffer: SVG images are not supported (supported: PNG, JPEG, WebP)');
    const bmp = new Uint8Array([0x42, 0x4d, 0x36, 0, 0, 0, 0, 0]);
    expect((await decodeError(bmp)).message).toMatch(/^buffer: BMP images are not supported/);
    const tiff = new Uint8Array([0x49, 0x49, 0x2a, 0, 8, 0, 0, 0]);
    expect((await decodeError(tiff)).message).toMatch(/^buffer: TIFF images are not supported/);
  });

  it('a non-bytes input', async () => {
    const err = await decodeError(42 as unknown as Uint8Array);
    expect(err.message).toBe('buffer: input must be a file path or a Uint8Array of encoded image bytes');
  });
});

describe('decodeImage limits', () => {
  it('rejects a decompression bomb from its header alone', async () => {
    // huge_header.png declares 30000x20000 but holds a few bytes of pixel data.
    const file = `${DATA_DIR}huge_header.png`;
    expect((await decodeError(file)).message).toBe(`${file}: image width 30000 exceeds the limit maxWidth=16384`);
    const wide = { maxWidth: 40000, maxHeight: 40000 };
    expect((await decodeError(file, wide)).message).toBe(
      `${file}: image is 30000x20000 = 600000000 pixels, over the limit maxPixels=40000000`,
    );
    expect((await decodeError(file, { maxWidth: 40000, maxHeight: 10000 })).message).toBe(
      `${file}: image height 20000 exceeds the limit maxHeight=10000`,
    );
  });

  it('applies each limit to a real image (37x23, 1650 bytes)', async () => {
    const file = `${DATA_DIR}noise_rgb.png`;
    const size = read('noise_rgb.png').length;
    expect((await decodeError(file, { maxBytes: 1000 })).message).toBe(
      `${file}: file is ${size} bytes, over the limit maxBytes=1000`,
    );
    expect((await decodeError(read('noise_rgb.png'), { maxBytes: 1000 })).message).toBe(
      `buffer: input is ${size} bytes, over the limit maxBytes=1000`,
    );
    expect((await decodeError(file, { maxPixels: 850 })).message).toMatch(/37x23 = 851 pixels, over the limit maxPixels=850$/);
    expect((await decodeError(file, { maxWidth: 36 })).message).toMatch(/image width 37 exceeds the limit maxWidth=36$/);
    expect((await decodeError(file, { maxHeight: 22 })).message).toMatch(/image height 23 exceeds the limit maxHeight=22$/);
    const img = await decodeImage(file, { maxPixels: 851, maxWidth: 37, maxHeight: 23, maxBytes: size });
    expect([img.width, img.height]).toEqual([37, 23]);
  });

  it('rejects limits that are not positive integers', async () => {
    expect((await decodeError('x.png', { maxPixels: -1 })).message).toBe('x.png: limit maxPixels must be a positive integer, got -1');
    expect((await decodeError('x.png', { maxBytes: 1.5 })).message).toBe('x.png: limit maxBytes must be a positive integer, got 1.5');
  });
});
