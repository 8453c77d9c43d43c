/**
 * Conv2DBackpropInput (the input gradient of conv2d, and conv2dTranspose's forward) for the wasm
 * backend. tfjs 4.22's wasm version is a scalar C++ loop, ~10x slower than the forward conv.
 *
 * With stride 1, dx is a forward convolution of dy with the filter flipped in space and with in/out
 * channels swapped, W'[kh,kw,co,ci] = W[KH-1-kh, KW-1-kw, ci, co], padded (KH-1-pt, KH-1-pb) x
 * (KW-1-pl, KW-1-pr), so it runs on the backend's own XNNPACK Conv2D. With strides (sh, sw), the dx
 * pixels of one phase (row mod sh, column mod sw) are reached by only a subset of the taps, so dx is
 * sh*sw such stride-1 convs with sub-filters, interleaved: no multiply-adds with zeros. Geometries
 * where a phase's conv would need dy cropped instead of padded spread dy with zeros and run one conv;
 * dilated filters, NCHW and pads wider than the kernel go to the stock kernel.
 */
import { backend_util, util } from '@tensorflow/tfjs-core';
import type { Conv2DBackpropInputAttrs, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { asWasm, f32Heap, makeZeros, MIN_NATIVE_COPY, off4, runWasmKernel } from './util.js';

type KernelArgs = Parameters<KernelFunc>[0];

/** The stock kernel, captured when ours replaces it; the cases we do not handle are passed on. */
export const stockConv2DBackpropInput: { kernelFunc?: KernelFunc } = {};

function callStock(args: KernelArgs): TensorInfo {
  const f = stockConv2DBackpropInput.kernelFunc;
  if (!f) throw new Error('stock wasm Conv2DBackpropInput kernel was not captured');
  return f(args) as TensorInfo;
}

/** One output phase of a strided dx along one axis: the rows r, r+s, r+2s, ... of dx. */
export interface AxisPhase {
  /** Number of dx rows in the phase. */
  n: number;
  /** Filter taps that reach the phase: k0, k0+s, ..., J of them (0: the phase is all zeros). */
  k0: number;
  J: number;
  /** Padding of the phase's stride-1 conv over dy (negative: dy would need cropping). */
  padBefore: number;
  padAfter: number;
}

/**
 * dx row r + s*i gets dy row o through tap k iff o*s + k - padTop = r + s*i, so only the taps
 * k = k0 (mod s) with k0 = (r + padTop) mod s reach it, and dx's phase is a stride-1 correlation of
 * dy with those taps flipped. For s = 1 this is the whole flipped filter, padded (K-1-padTop, ...).
 */
function axisPhase(r: number, s: number, K: number, inSize: number, outSize: number, padTop: number): AxisPhase {
  const n = Math.ceil((inSize - r) / s);
  const k0 = (((r + padTop) % s) + s) % s;
  const J = k0 < K ? Math.ceil((K - k0) / s) : 0;
  const q = (r + padTop - k0) / s;
  return { n, k0, J, padBefore: J - 1 - q, padAfter: n - 1 + q - (outSize - 1) };
}

/**
 * The taps of W [KH,KW,CI,CO] that reach one phase, flipped, with in/out channels swapped:
 * W'[j,l,co,ci] = W[h.k0 + sh*(h.J-1-j), w.k0 + sw*(w.J-1-l), ci, co], shape [h.J, w.J, CO, CI].
 */
function phaseFilter(backend: BackendWasm, filter: TensorInfo, h: AxisPhase, sh: number, w: AxisPhase, sw: number): TensorInfo {
  const [, KW, CI, CO] = filter.shape as [number, number, number, number];
  const out = backend.makeOutput([h.J, w.J, CO, CI], 'float32');
  const f = f32Heap(backend);
  const src = off4(backend, filter);
  let d = off4(backend, out);
  const tapSize = CI * CO;
  for (let j = 0; j < h.J; j++) {
    const kh = h.k0 + sh * (h.J - 1 - j);
    for (let l = 0; l < w.J; l++, d += tapSize) {
      const kw = w.k0 + sw * (w.J - 1 - l);
      const s = src + (kh * KW + kw) * tapSize;
      for (let ci = 0; ci < CI; ci++) {
        for (let co = 0, sRow = s + ci * CO, dCol = d + ci; co < CO; co++, dCol += CI) f[dCol] = f[sRow + co]!;
      }
    }
  }
  return out;
}

/** Stride-1 conv of dy [B,OH,OW,CO] with a [J,L,CO,CI] filter and explicit pads, on XNNPACK. */
function convNHWC(backend: BackendWasm, x: TensorInfo, filter: TensorInfo, h: AxisPhase, w: AxisPhase): TensorInfo {
  return runWasmKernel(
    backend,
    'Conv2D',
    { x, filter },
    {
      strides: 1,
      pad: [
        [0, 0],
        [h.padBefore, h.padAfter],
        [w.padBefore, w.padAfter],
        [0, 0],
      ],
      dataFormat: 'NHWC',
      dilations: 1,
      dimRoundingMode: 'floor',
    },
  );
}

/** Writes phase [B,nh,nw,C] into dx [B,H,W,C] at rows rh + sh*i, columns rw + sw*k. */
function scatterPhase(backend: BackendWasm, phase: TensorInfo, dx: TensorInfo, rh: number, sh: number, rw: number, sw: number): void {
  const [B, nh, nw, C] = phase.shape as [number, number, number, number];
  const [, H, W] = dx.shape as [number, number, number, number];
  const f = f32Heap(backend);
  let s = off4(backend, phase);
  const dst = off4(backend, dx);
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < nh; i++) {
      let d = dst + ((b * H + rh + sh * i) * W + rw) * C;
      for (let k = 0; k < nw; k++, s += C, d += sw * C) {
        if (C >= MIN_NATIVE_COPY) {
          f.copyWithin(d, s, s + C);
        } else {
          for (let c = 0; c < C; c++) f[d + c] = f[s + c]!;
        }
      }
    }
  }
}

/**
 * dy [B,OH,OW,C] → [B,(OH-1)*sh+1,(OW-1)*sw+1,C] with dy's pixels at multiples of the strides and
 * zeros between them.
 */
function spreadDy(backend: BackendWasm, dy: TensorInfo, sh: number, sw: number): TensorInfo {
  const [B, OH, OW, C] = dy.shape as [number, number, number, number];
  const DH = (OH - 1) * sh + 1;
  const DW = (OW - 1) * sw + 1;
  const out = makeZeros(backend, [B, DH, DW, C], 'float32');
  const f = f32Heap(backend);
  let s = off4(backend, dy);
  const dst = off4(backend, out);
  for (let b = 0; b < B; b++) {
    for (let oh = 0; oh < OH; oh++) {
      let d = dst + ((b * DH + oh * sh) * DW) * C;
      for (let ow = 0; ow < OW; ow++, s += C, d += sw * C) {
        if (C >= MIN_NATIVE_COPY) {
          f.copyWithin(d, s, s + C);
        } else {
          for (let c = 0; c < C; c++) f[d + c] = f[s + c]!;
        }
      }
    }
  }
  return out;
}

/**
 * How dx is computed: 'phases' (sh*sw stride-1 convs, one when unstrided), 'spread' (one conv over
 * dy spread with zeros; for pads that would make some phase crop dy) or 'stock'.
 */
export type BackpropInputPlan =
  | { kind: 'phases'; h: AxisPhase[]; w: AxisPhase[] }
  | { kind: 'spread'; h: AxisPhase; w: AxisPhase }
  | { kind: 'stock' };

/** @internal Exported so tests can check which path a geometry takes. */
export function planBackpropInput(convInfo: backend_util.Conv2DInfo): BackpropInputPlan {
  const { filterHeight: KH, filterWidth: KW, strideHeight: sh, strideWidth: sw, outHeight: OH, outWidth: OW } = convInfo;
  const { top, left } = convInfo.padInfo;
  const H = convInfo.inHeight;
  const W = convInfo.inWidth;
  if (convInfo.dataFormat !== 'channelsLast' || convInfo.dilationHeight !== 1 || convInfo.dilationWidth !== 1) return { kind: 'stock' };
  const range = (n: number) => Array.from({ length: n }, (_, i) => i);
  const h = range(Math.min(sh, H)).map((r) => axisPhase(r, sh, KH, H, OH, top));
  const w = range(Math.min(sw, W)).map((r) => axisPhase(r, sw, KW, W, OW, left));
  const padsOk = (p: AxisPhase) => p.J === 0 || p.n <= 0 || (p.padBefore >= 0 && p.padAfter >= 0);
  if (h.every(padsOk) && w.every(padsOk)) return { kind: 'phases', h, w };
  const spread = {
    h: { n: H, k0: 0, J: KH, padBefore: KH - 1 - top, padAfter: H - 1 + top - (OH - 1) * sh },
    w: { n: W, k0: 0, J: KW, padBefore: KW - 1 - left, padAfter: W - 1 + left - (OW - 1) * sw },
  };
  if (padsOk(spread.h) && padsOk(spread.w)) return { kind: 'spread', ...spread };
  return { kind: 'stock' };
}

function conv2DBackpropInput(args: KernelArgs): TensorInfo {
  const backend = asWasm(args.backend);
  const { dy, filter } = args.inputs;
  if (!dy || !filter) throw new Error('Conv2DBackpropInput needs inputs dy and filter');
  const attrs = args.attrs as unknown as Conv2DBackpropInputAttrs & { dilations?: number | [number, number] };
  const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs;
  const convInfo = backend_util.computeConv2DInfo(
    inputShape,
    filter.shape as [number, number, number, number],
    strides,
    attrs.dilations ?? 1,
    pad,
    dimRoundingMode,
    false,
    backend_util.convertConv2DDataFormat(dataFormat),
  );
  const plan = planBackpropInput(convInfo);
  if (plan.kind === 'stock' || dy.dtype !== 'float32' || filter.dtype !== 'float32') return callStock(args);
  const { batchSize: B, outHeight: OH, outWidth: OW, outChannels: CO, strideHeight: sh, strideWidth: sw } = convInfo;
  const outShape = convInfo.inShape.slice();
  if (util.sizeFromShape(outShape) === 0) return backend.makeOutput(outShape, 'float32');
  if (OH * OW * CO === 0) return makeZeros(backend, outShape, 'float32');
  const dy4: TensorInfo = { dataId: dy.dataId, shape: [B, OH, OW, CO], dtype: 'float32' };
  if (plan.kind === 'phases') return phasedBackpropInput(backend, dy4, filter, plan.h, sh, plan.w, sw, outShape);
  const wFlip = phaseFilter(backend, filter, plan.h, 1, plan.w, 1);
  const dySpread = spreadDy(backend, dy4, sh, sw);
  const dx = convNHWC(backend, dySpread, wFlip, plan.h, plan.w);
  backend.disposeData(wFlip.dataId);
  backend.disposeData(dySpread.dataId);
  dx.shape = outShape;
  return dx;
}

/** dx as sh*sw stride-1 convs of dy, one per output phase, interleaved (one conv when unstrided). */
function phasedBackpropInput(
  backend: BackendWasm,
  dy: TensorInfo,
  filter: TensorInfo,
  hPhases: AxisPhase[],
  sh: number,
  wPhases: AxisPhase[],
  sw: number,
  outShape: number[],
): TensorInfo {
  if (hPhases.length === 1 && wPhases.length === 1 && hPhases[0]!.J > 0 && wPhases[0]!.J > 0) {
    const [h, w] = [hPhases[0]!, wPhases[0]!];
    const wFlip = phaseFilter(backend, filter, h, sh, w, sw);
    const dx = convNHWC(backend, dy, wFlip, h, w);
    backend.disposeData(wFlip.dataId);
    dx.shape = outShape;
    return dx;
  }
  const allUsed = hPhases.every((p) => p.J > 0) && wPhases.every((p) => p.J > 0);
  // Phases no tap reaches (a kernel smaller than the stride) stay zero.
  const dx = allUsed ? backend.makeOutput(outShape, 'float32') : makeZeros(backend, outShape, 'float32');
  hPhases.forEach((h, rh) => {
    wPhases.forEach((w, rw) => {
      if (h.J === 0 || w.J === 0 || h.n <= 0 || w.n <= 0) return;
      const wSub = phaseFilter(backend, filter, h, sh, w, sw);
      const phase = convNHWC(backend, dy, wSub, h, w);
      scatterPhase(backend, phase, dx, rh, sh, rw, sw);
      backend.disposeData(wSub.dataId);
      backend.disposeData(phase.dataId);
    });
  });
  return dx;
}

export const conv2DBackpropInputFunc = conv2DBackpropInput as KernelFunc;
