import type { OnnxBuilder } from '../onnx/builder.js';
import type { Conv2d } from './conv.js';
import { emitParam } from './layers.onnx.js';

export interface EmitConv2dOptions {
  /** ONNX pads [top, left, bottom, right] instead of the module's symmetric padding (e.g. a right/bottom pre-pad folded in). */
  pads?: readonly [number, number, number, number];
}

/**
 * Conv2d on NCHW x [B, in, H, W] → [B, out, H', W'] with the PyTorch weight [out, in, kh, kw]
 * as ONNX wants it. The module's patchify fast path is the same function as this Conv.
 */
export function emitConv2d(g: OnnxBuilder, m: Conv2d, x: string, name: string, options: EmitConv2dOptions = {}): string {
  const [ph, pw] = m.padding;
  const w = emitParam(g, `${name}.weight`, m.weight);
  const b = m.bias ? emitParam(g, `${name}.bias`, m.bias) : undefined;
  return g.conv(x, w, b, { strides: m.stride, dilations: m.dilation, pads: options.pads ?? [ph, pw, ph, pw] });
}
