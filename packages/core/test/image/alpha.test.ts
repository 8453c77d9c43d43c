// Alpha: dropped as PIL's convert('RGB') drops it, or composited over a background on request,
// with the count of transparent pixels either way.
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { decodeImage, decodeImageDetailed, MigeInputError } from '../../src/index.js';

/** A 3×1 RGBA PNG: opaque red, half-transparent red (α 128), fully transparent green. */
async function rgbaPng(): Promise<Buffer> {
  const raw = Buffer.from([255, 0, 0, 255, 255, 0, 0, 128, 0, 255, 0, 0]);
  return sharp(raw, { raw: { width: 3, height: 1, channels: 4 } }).png().toBuffer();
}

describe('alpha', () => {
  it('is dropped by default (PIL), and counted', async () => {
    const png = await rgbaPng();
    const d = await decodeImageDetailed(png);
    expect(d).toMatchObject({ format: 'png', transparentPixels: 2, composited: false });
    expect([...d.image.data]).toEqual([255, 0, 0, 255, 0, 0, 0, 255, 0]);
    expect([...(await decodeImage(png)).data]).toEqual([...d.image.data]);
  });

  it('is composited over a background: (rgb·α + bg·(255 − α)) / 255, rounded', async () => {
    const d = await decodeImageDetailed(await rgbaPng(), { background: [255, 255, 255] });
    expect(d.composited).toBe(true);
    // α 128 red over white: g = b = round(255·127 / 255) = 127.
    expect([...d.image.data]).toEqual([255, 0, 0, 255, 127, 127, 255, 255, 255]);
    const black = await decodeImageDetailed(await rgbaPng(), { background: [0, 0, 0] });
    expect([...black.image.data]).toEqual([255, 0, 0, 128, 0, 0, 0, 0, 0]);
  });

  it('leaves opaque images alone, and refuses a bad background', async () => {
    const rgb = await sharp(Buffer.from([1, 2, 3]), { raw: { width: 1, height: 1, channels: 3 } }).png().toBuffer();
    expect(await decodeImageDetailed(rgb, { background: [255, 255, 255] })).toMatchObject({ transparentPixels: 0, composited: false });
    await expect(decodeImageDetailed(rgb, { background: [256, 0, 0] })).rejects.toThrow(MigeInputError);
  });
});
