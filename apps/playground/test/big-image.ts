import { createRgbImage, encodeImage } from '@mige/core';

/**
 * A large PNG data URL that compresses well (horizontal bands of colour): megapixels of pixels
 * in a few hundred KB of request, what a screenshot or a photo of a flat scene sends.
 */
export async function bigPngDataUrl(width: number, height: number): Promise<string> {
  const img = createRgbImage(width, height);
  for (let y = 0; y < height; y++) {
    const band = Math.floor(y / 50);
    for (let x = 0; x < width; x++) img.data.set([(band * 37) % 256, (x >> 6) % 256, (band * 91) % 256], 3 * (y * width + x));
  }
  return `data:image/png;base64,${(await encodeImage(img, 'png')).toString('base64')}`;
}
