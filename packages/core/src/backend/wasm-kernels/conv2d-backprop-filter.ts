/**
 * Conv2DBackpropFilter for the wasm backend (tfjs 4.22 ships none, so conv2d / conv2dTranspose have
 * no filter gradient there).
 *
 * dW[kh,kw,ci,co] = sum over (b,oh,ow) of x[b, oh*sh+kh*dh-pt, ow*sw+kw*dw-pl, ci] * dy[b,oh,ow,co],
 * i.e. dW = colsT (K x M) @ dy (M x CO) with M = B*OH*OW, K = KH*KW*CI and colsT the transposed
 * im2col matrix of x. The product runs on the backend's XNNPACK matmul: its non-transposed 2-D path
 * is 10-40x faster than the transposed ones, and it packs the right operand on every call, so the big
 * operand goes on the left. colsT rows are built from x laid out as [CI, B, H, W] (one stock
 * transpose), which makes each row a series of contiguous copies of input rows.
 */
import { backend_util } from '@tensorflow/tfjs-core';
import type { Conv2DBackpropFilterAttrs, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { asWasm, f32Heap, makeZeros, matMulWasm, MIN_NATIVE_COPY, off4, transposeWasm } from './util.js';

type KernelArgs = Parameters<KernelFunc>[0];

/** Upper bound on one colsT chunk (floats). Bigger problems are split along M and summed. */
const DEFAULT_COLS_CHUNK_ELEMS = 4 * 1024 * 1024;
let colsChunkElems = DEFAULT_COLS_CHUNK_ELEMS;

/** @internal Shrinks the colsT chunk so tests can exercise the multi-chunk path on small inputs. */
export function setIm2colChunkElemsForTesting(elems?: number): void {
  colsChunkElems = elems ?? DEFAULT_COLS_CHUNK_ELEMS;
}

export interface FilterGradGeometry {
  B: number;
  H: number;
  W: number;
  CI: number;
  OH: number;
  OW: number;
  CO: number;
  KH: number;
  KW: number;
  sh: number;
  sw: number;
  dh: number;
  dw: number;
  pt: number;
  pl: number;
}

/**
 * Fills colsT for the output rows `u0 .. u0+units` (an output row is one (b, oh) pair, OW columns) into
 * `f[dst..]`, laid out [K, units*OW] with K ordered (kh, kw, ci) like the filter. `xT` is x as
 * [CI, B, H, W]. Out-of-image taps are zeros.
 */
export function fillColsT(f: Float32Array, xT: number, g: FilterGradGeometry, u0: number, units: number, dst: number): void {
  const { B, H, W, CI, OH, OW, KH, KW, sh, sw, dh, dw, pt, pl } = g;
  const mc = units * OW;
  // ci outermost keeps one [B, H, W] plane of x hot while its KH*KW rows are written.
  for (let ci = 0; ci < CI; ci++) {
    const plane = xT + ci * B * H * W;
    for (let kh = 0; kh < KH; kh++) {
      for (let kw = 0; kw < KW; kw++) {
        const rowDst = dst + ((kh * KW + kw) * CI + ci) * mc;
        const colOff = kw * dw - pl;
        // Output columns whose input column lies inside the image: [owLo, owHi).
        const owLo = Math.min(OW, Math.max(0, Math.ceil(-colOff / sw)));
        const owHi = Math.max(owLo, Math.min(OW, Math.floor((W - 1 - colOff) / sw) + 1));
        let b = Math.floor(u0 / OH);
        let oh = u0 % OH;
        for (let u = 0; u < units; u++) {
          const d = rowDst + u * OW;
          const ih = oh * sh - pt + kh * dh;
          if (ih < 0 || ih >= H) {
            for (let j = 0; j < OW; j++) f[d + j] = 0;
          } else {
            for (let j = 0; j < owLo; j++) f[d + j] = 0;
            for (let j = owHi; j < OW; j++) f[d + j] = 0;
            const n = owHi - owLo;
            const src = plane + (b * H + ih) * W + owLo * sw + colOff;
            if (sw === 1 && n >= MIN_NATIVE_COPY) {
              f.copyWithin(d + owLo, src, src + n);
            } else {
              for (let j = 0, s = src; j < n; j++, s += sw) f[d + owLo + j] = f[s]!;
            }
          }
          if (++oh === OH) {
            oh = 0;
            b++;
          }
        }
      }
    }
  }
}

function conv2DBackpropFilter(args: KernelArgs): TensorInfo {
  const backend = asWasm(args.backend);
  const x = args.inputs.x;
  const dy = args.inputs.dy;
  if (!x || !dy) throw new Error('Conv2DBackpropFilter needs inputs x and dy');
  const attrs = args.attrs as unknown as Conv2DBackpropFilterAttrs & { dilations?: number | [number, number] };
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs;
  // tfjs's conv2d gradient never passes dilations (it rejects dilated convs); accept them anyway so a
  // caller running the kernel directly gets the dilated filter gradient.
  const dilations = attrs.dilations ?? 1;
  const convInfo = backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filterShape,
    strides,
    dilations,
    pad,
    dimRoundingMode,
    false,
    backend_util.convertConv2DDataFormat(dataFormat),
  );
  const g: FilterGradGeometry = {
    B: convInfo.batchSize,
    H: convInfo.inHeight,
    W: convInfo.inWidth,
    CI: convInfo.inChannels,
    OH: convInfo.outHeight,
    OW: convInfo.outWidth,
    CO: convInfo.outChannels,
    KH: convInfo.filterHeight,
    KW: convInfo.filterWidth,
    sh: convInfo.strideHeight,
    sw: convInfo.strideWidth,
    dh: convInfo.dilationHeight,
    dw: convInfo.dilationWidth,
    pt: convInfo.padInfo.top,
    pl: convInfo.padInfo.left,
  };
  const M = g.B * g.OH * g.OW;
  const K = g.KH * g.KW * g.CI;
  const outShape = convInfo.filterShape.slice();
  if (M === 0 || K === 0 || g.CO === 0) return makeZeros(backend, outShape, 'float32');
  return filterGradMatmul(backend, x, dy, g, convInfo.dataFormat === 'channelsLast', outShape);
}

export function filterGradMatmul(
  backend: BackendWasm,
  x: TensorInfo,
  dy: TensorInfo,
  g: FilterGradGeometry,
  channelsLast: boolean,
  outShape: number[],
): TensorInfo {
  const K = g.KH * g.KW * g.CI;
  const CO = g.CO;
  const temps: TensorInfo[] = [];
  // x as [CI, B, H, W]; dy as [M, CO] rows (NHWC order).
  const xT = transposeWasm(backend, x, channelsLast ? [3, 0, 1, 2] : [1, 0, 2, 3]);
  temps.push(xT);
  let dyRows = dy;
  if (!channelsLast) {
    dyRows = transposeWasm(backend, dy, [0, 2, 3, 1]);
    temps.push(dyRows);
  }
  const units = g.B * g.OH;
  const chunkUnits = Math.max(1, Math.min(units, Math.floor(colsChunkElems / (K * g.OW))));
  let acc: TensorInfo | undefined;
  for (let u0 = 0; u0 < units; u0 += chunkUnits) {
    const n = Math.min(chunkUnits, units - u0);
    const mc = n * g.OW;
    const lhs = backend.makeOutput([K, mc], 'float32');
    // Always a fresh right operand: XNNPACK caches packed right operands by tensor id, and dy's id is
    // shared with every reshape of it.
    const rhs = backend.makeOutput([mc, CO], 'float32');
    const f = f32Heap(backend);
    fillColsT(f, off4(backend, xT), g, u0, n, off4(backend, lhs));
    const src = off4(backend, dyRows) + u0 * g.OW * CO;
    f.copyWithin(off4(backend, rhs), src, src + mc * CO);
    const part = matMulWasm(backend, lhs, rhs);
    backend.disposeData(lhs.dataId);
    backend.disposeData(rhs.dataId);
    if (!acc) {
      acc = part;
    } else {
      const h = f32Heap(backend);
      const a = off4(backend, acc);
      const p = off4(backend, part);
      const total = K * CO;
      for (let i = 0; i < total; i++) h[a + i] = h[a + i]! + h[p + i]!;
      backend.disposeData(part.dataId);
    }
  }
  for (const t of temps) backend.disposeData(t.dataId);
  // [K, CO] is the filter [KH, KW, CI, CO] flattened.
  const dW = acc!;
  dW.shape = outShape;
  return dW;
}

export const conv2DBackpropFilterFunc = conv2DBackpropFilter as KernelFunc;
