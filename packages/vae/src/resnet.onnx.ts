import { emitConv2d, emitGroupNorm, emitSilu, type nn, type OnnxBuilder } from '@mige/core';
import type { ResnetBlock2D } from './resnet.js';

/** SiLU(GroupNorm(x)) on NCHW x (steps.ts's normSilu). */
export function emitNormSilu(g: OnnxBuilder, norm: nn.GroupNorm, x: string, name: string): string {
  return emitSilu(g, emitGroupNorm(g, norm, x, name));
}

/**
 * ResnetBlock2D on NCHW x [B, in, H, W] → [B, out, H, W]. The exported VAE graphs are NCHW,
 * ONNX's native conv layout; the module's NHWC is only tfjs's fast path for the same function.
 */
export function emitResnetBlock2D(g: OnnxBuilder, m: ResnetBlock2D, x: string, name: string): string {
  let h = emitNormSilu(g, m.norm1, x, `${name}.norm1`);
  h = emitConv2d(g, m.conv1, h, `${name}.conv1`);
  h = emitNormSilu(g, m.norm2, h, `${name}.norm2`);
  h = emitConv2d(g, m.conv2, h, `${name}.conv2`);
  const shortcut = m.convShortcut ? emitConv2d(g, m.convShortcut, x, `${name}.conv_shortcut`) : x;
  return g.add(shortcut, h);
}
