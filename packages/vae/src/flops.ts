import type { AutoencoderKLConfig } from './config.js';

/**
 * Floating-point operations of AutoencoderKL, counted analytically as 2·(multiply-adds) of every
 * conv and matrix product (GroupNorm, SiLU and the residual adds are a few percent and left out).
 * `height` and `width` are the image size; the batch multiplies everything.
 */
export function vaeFlops(c: Readonly<AutoencoderKLConfig>, height: number, width: number, batch = 1): { encode: number; decode: number } {
  const conv = (k: number, cin: number, cout: number, pixels: number): number => 2 * k * k * cin * cout * pixels;
  const resnet = (cin: number, cout: number, pixels: number): number =>
    conv(3, cin, cout, pixels) + conv(3, cout, cout, pixels) + (cin !== cout ? conv(1, cin, cout, pixels) : 0);
  // q, k, v, out projections plus the two [n, n] products of single-head attention over n positions.
  const attention = (ch: number, n: number): number => 4 * 2 * n * ch * ch + 2 * 2 * n * n * ch;
  const mid = (ch: number, pixels: number): number => 2 * resnet(ch, ch, pixels) + (c.midBlockAddAttention ? attention(ch, pixels) : 0);
  const ch = c.blockOutChannels;
  const n = ch.length;
  const last = ch[n - 1] as number;
  const l = c.latentChannels;

  let encode = conv(3, c.inChannels, ch[0] as number, height * width);
  let px = height * width;
  ch.forEach((out, i) => {
    for (let j = 0; j < c.layersPerBlock; j++) encode += resnet(j === 0 ? (i === 0 ? out : (ch[i - 1] as number)) : out, out, px);
    if (i < n - 1) {
      px /= 4;
      encode += conv(3, out, out, px); // stride 2: counted at the output size
    }
  });
  encode += mid(last, px) + conv(3, last, 2 * l, px) + (c.useQuantConv ? conv(1, 2 * l, 2 * l, px) : 0);

  let decode = (c.usePostQuantConv ? conv(1, l, l, px) : 0) + conv(3, l, last, px) + mid(last, px);
  const reversed = [...ch].reverse();
  reversed.forEach((out, i) => {
    for (let j = 0; j <= c.layersPerBlock; j++) decode += resnet(j === 0 ? (i === 0 ? last : (reversed[i - 1] as number)) : out, out, px);
    if (i < n - 1) {
      px *= 4;
      decode += conv(3, out, out, px);
    }
  });
  decode += conv(3, ch[0] as number, c.outChannels, px);
  return { encode: batch * encode, decode: batch * decode };
}
