import { padImage, resize, type RgbImage } from '@mige/core';

/**
 * MIGE_subject_infer.py's `resize_with_padding`: scale the long side to `size` (bicubic, the
 * short side truncated with int()), then pad with black to a centred square.
 */
export function resizeWithPadding(img: RgbImage, size: number): RgbImage {
  const { width, height } = img;
  const w = width > height ? size : Math.trunc((size * width) / height);
  const h = width > height ? Math.trunc((size * height) / width) : size;
  const scaled = resize(img, w, h, 'bicubic');
  const left = Math.floor((size - w) / 2);
  const top = Math.floor((size - h) / 2);
  return padImage(scaled, left, top, size - w - left, size - h - top);
}
