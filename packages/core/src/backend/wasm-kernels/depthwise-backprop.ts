/**
 * DepthwiseConv2dNativeBackpropFilter / BackpropInput for the wasm backend (missing in tfjs 4.22).
 *
 * Per-channel work is not a matmul, so these are JS loops over heap views, ordered so the innermost
 * loop walks contiguous channels. Each output element is accumulated in float64 over the same
 * (b, oh, ow[, dm]) order as the cpu backend's kernels, so results match cpu bit for bit.
 *
 * Dilations: the cpu kernels take the dilation into account for padding and output size but then
 * index the filter undilated. tfjs's depthwise gradient only allows dilation 1, where the two agree;
 * here dilated taps are indexed properly.
 */
import { backend_util } from '@tensorflow/tfjs-core';
import type {
  DepthwiseConv2dNativeBackpropFilterAttrs,
  DepthwiseConv2dNativeBackpropInputAttrs,
  KernelFunc,
  TensorInfo,
} from '@tensorflow/tfjs-core';
import { asWasm, f32Heap, off4 } from './util.js';

type KernelArgs = Parameters<KernelFunc>[0];

/** The depthwise conv geometry both backprop kernels loop over, with short names. */
function geometry(
  inShape: [number, number, number, number],
  filterShape: [number, number, number, number],
  attrs: Pick<DepthwiseConv2dNativeBackpropFilterAttrs, 'strides' | 'dilations' | 'pad' | 'dimRoundingMode'>,
) {
  const c = backend_util.computeConv2DInfo(inShape, filterShape, attrs.strides, attrs.dilations, attrs.pad, attrs.dimRoundingMode, true);
  return {
    c,
    B: c.batchSize, H: c.inHeight, W: c.inWidth, CI: c.inChannels, OH: c.outHeight, OW: c.outWidth, CO: c.outChannels,
    KH: c.filterHeight, KW: c.filterWidth, sh: c.strideHeight, sw: c.strideWidth, dh: c.dilationHeight, dw: c.dilationWidth,
    pt: c.padInfo.top, pl: c.padInfo.left, chMul: c.outChannels / c.inChannels,
  };
}

function depthwiseBackpropFilter(args: KernelArgs): TensorInfo {
  const backend = asWasm(args.backend);
  const { x, dy } = args.inputs;
  if (!x || !dy) throw new Error('DepthwiseConv2dNativeBackpropFilter needs inputs x and dy');
  const attrs = args.attrs as unknown as DepthwiseConv2dNativeBackpropFilterAttrs;
  const { filterShape } = attrs;
  const g = geometry(x.shape as [number, number, number, number], filterShape, attrs);
  const { c, B, H, W, CI, OH, OW, CO, KH, KW, sh, sw, dh, dw, pt, pl, chMul } = g;
  const acc = new Float64Array(KH * KW * CO);
  const out = backend.makeOutput(c.filterShape.slice(), 'float32');
  const f = f32Heap(backend);
  const xOff = off4(backend, x);
  const dyOff = off4(backend, dy);
  for (let b = 0; b < B; b++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let kh = 0; kh < KH; kh++) {
        const ih = oh * sh - pt + kh * dh;
        if (ih < 0 || ih >= H) continue;
        const xRowBase = xOff + (b * H + ih) * W * CI;
        for (let ow = 0; ow < OW; ow++) {
          const dyRow = dyOff + ((b * OH + oh) * OW + ow) * CO;
          for (let kw = 0; kw < KW; kw++) {
            const iw = ow * sw - pl + kw * dw;
            if (iw < 0 || iw >= W) continue;
            const xRow = xRowBase + iw * CI;
            const aRow = (kh * KW + kw) * CO;
            if (chMul === 1) {
              for (let ci = 0; ci < CI; ci++) acc[aRow + ci] = acc[aRow + ci]! + f[xRow + ci]! * f[dyRow + ci]!;
            } else {
              for (let ci = 0; ci < CI; ci++) {
                const xv = f[xRow + ci]!;
                const o = ci * chMul;
                for (let q = 0; q < chMul; q++) acc[aRow + o + q] = acc[aRow + o + q]! + xv * f[dyRow + o + q]!;
              }
            }
          }
        }
      }
    }
  }
  // [KH, KW, CO] flattened is exactly [KH, KW, CI, chMul].
  f.set(acc, off4(backend, out));
  return out;
}

function depthwiseBackpropInput(args: KernelArgs): TensorInfo {
  const backend = asWasm(args.backend);
  const { dy, filter } = args.inputs;
  if (!dy || !filter) throw new Error('DepthwiseConv2dNativeBackpropInput needs inputs dy and filter');
  const attrs = args.attrs as unknown as DepthwiseConv2dNativeBackpropInputAttrs;
  const { inputShape } = attrs;
  const g = geometry(inputShape, filter.shape as [number, number, number, number], attrs);
  const { c, B, H, W, CI, OH, OW, CO, KH, KW, sh, sw, dh, dw, pt, pl, chMul } = g;
  // One image of float64 accumulators at a time.
  const acc = new Float64Array(H * W * CI);
  const out = backend.makeOutput(c.inShape.slice(), 'float32');
  const f = f32Heap(backend);
  const dyOff = off4(backend, dy);
  const wOff = off4(backend, filter);
  const outOff = off4(backend, out);
  for (let b = 0; b < B; b++) {
    acc.fill(0);
    for (let oh = 0; oh < OH; oh++) {
      for (let kh = 0; kh < KH; kh++) {
        const ih = oh * sh - pt + kh * dh;
        if (ih < 0 || ih >= H) continue;
        for (let ow = 0; ow < OW; ow++) {
          const dyRow = dyOff + ((b * OH + oh) * OW + ow) * CO;
          for (let kw = 0; kw < KW; kw++) {
            const iw = ow * sw - pl + kw * dw;
            if (iw < 0 || iw >= W) continue;
            const aRow = (ih * W + iw) * CI;
            const wRow = wOff + (kh * KW + kw) * CO;
            if (chMul === 1) {
              for (let ci = 0; ci < CI; ci++) acc[aRow + ci] = acc[aRow + ci]! + f[dyRow + ci]! * f[wRow + ci]!;
            } else {
              for (let ci = 0; ci < CI; ci++) {
                const o = ci * chMul;
                // Added one product at a time, in dm order, like the cpu kernel.
                for (let q = 0; q < chMul; q++) acc[aRow + ci] = acc[aRow + ci]! + f[dyRow + o + q]! * f[wRow + o + q]!;
              }
            }
          }
        }
      }
    }
    f.set(acc, outOff + b * H * W * CI);
  }
  return out;
}

export const depthwiseBackpropFilterFunc = depthwiseBackpropFilter as KernelFunc;
export const depthwiseBackpropInputFunc = depthwiseBackpropInput as KernelFunc;
