import { emitConv2d, type OnnxBuilder } from '@mige/core';
import { emitVaeAttention } from './attention.onnx.js';
import type { Downsample2D, DownEncoderBlock2D, UNetMidBlock2D, UpDecoderBlock2D, Upsample2D } from './blocks.js';
import { emitResnetBlock2D } from './resnet.onnx.js';

/** The VAE's blocks on NCHW values. */

/** Downsample2D: the right/bottom zero pad folds into the stride-2 conv's pads. */
export function emitDownsample2D(g: OnnxBuilder, m: Downsample2D, x: string, name: string): string {
  return emitConv2d(g, m.conv, x, `${name}.conv`, { pads: [0, 0, 1, 1] });
}

/** Upsample2D: nearest ×2 with floor(i/2) sources, then the 3×3 conv. */
export function emitUpsample2D(g: OnnxBuilder, m: Upsample2D, x: string, name: string): string {
  return emitConv2d(g, m.conv, g.resizeNearest(x, [1, 1, 2, 2]), `${name}.conv`);
}

export function emitDownEncoderBlock2D(g: OnnxBuilder, m: DownEncoderBlock2D, x: string, name: string): string {
  let h = x;
  m.resnets.items.forEach((r, i) => (h = emitResnetBlock2D(g, r, h, `${name}.resnets.${i}`)));
  if (m.downsamplers) h = emitDownsample2D(g, m.downsamplers.at(0), h, `${name}.downsamplers.0`);
  return h;
}

export function emitUpDecoderBlock2D(g: OnnxBuilder, m: UpDecoderBlock2D, x: string, name: string): string {
  let h = x;
  m.resnets.items.forEach((r, i) => (h = emitResnetBlock2D(g, r, h, `${name}.resnets.${i}`)));
  if (m.upsamplers) h = emitUpsample2D(g, m.upsamplers.at(0), h, `${name}.upsamplers.0`);
  return h;
}

/** resnet, (attention), resnet. */
export function emitUNetMidBlock2D(g: OnnxBuilder, m: UNetMidBlock2D, x: string, name: string): string {
  let h = emitResnetBlock2D(g, m.resnets.at(0), x, `${name}.resnets.0`);
  if (m.attentions) h = emitVaeAttention(g, m.attentions.at(0), h, `${name}.attentions.0`);
  return emitResnetBlock2D(g, m.resnets.at(1), h, `${name}.resnets.1`);
}
