import { MigeInputError, type RgbImage } from '@mige/core';

function checkSame(a: RgbImage, b: RgbImage, where: string): void {
  if (a.width !== b.width || a.height !== b.height) {
    throw new MigeInputError(`images differ in size: ${a.width}x${a.height} vs ${b.width}x${b.height}`, where);
  }
}

/**
 * L1 as MagicBrush / Emu Edit report it: the mean absolute difference over all pixels and
 * channels, with pixels scaled to [0, 1] (so 0 = identical, 1 = black vs white everywhere).
 */
export function l1Distance(a: RgbImage, b: RgbImage): number {
  checkSame(a, b, 'l1Distance');
  let sum = 0;
  for (let k = 0; k < a.data.length; k++) sum += Math.abs((a.data[k] as number) - (b.data[k] as number));
  return sum / 255 / a.data.length;
}

/** L2 as those benchmarks report it: the mean squared difference on [0, 1] pixels (not its root). */
export function l2Distance(a: RgbImage, b: RgbImage): number {
  checkSame(a, b, 'l2Distance');
  let sum = 0;
  for (let k = 0; k < a.data.length; k++) {
    const d = ((a.data[k] as number) - (b.data[k] as number)) / 255;
    sum += d * d;
  }
  return sum / a.data.length;
}
