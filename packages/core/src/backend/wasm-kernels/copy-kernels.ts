/**
 * Copy kernels (Slice, Unpack, SplitV, StridedSlice, Transpose) that move data with heap-view copies.
 *
 * The stock wasm Slice reads its input through `readSync`, which copies the whole input out of the
 * heap on every call; Unpack and SplitV call that Slice once per output, so unstacking N slices costs
 * N full copies of the input. These versions copy only the selected elements, straight from heap to
 * heap. Anything they do not handle (string tensors, general strided slices, transposes the stock
 * kernel already does well) goes to the stock kernel.
 */
import { backend_util, slice_util, util } from '@tensorflow/tfjs-core';
import type {
  KernelFunc,
  NamedTensorInfoMap,
  SliceAttrs,
  SplitVAttrs,
  StridedSliceAttrs,
  TensorInfo,
  TransposeAttrs,
  UnpackAttrs,
} from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { asWasm, byteOffset, copyRun, copyView, heapBytesPerElement, MIN_NATIVE_COPY, viewAs } from './util.js';

type KernelArgs = Parameters<KernelFunc>[0];

/** The stock kernels, captured when ours replace them; cases we do not handle are passed on. */
export interface StockKernels {
  Slice?: KernelFunc;
  Unpack?: KernelFunc;
  SplitV?: KernelFunc;
  StridedSlice?: KernelFunc;
  Transpose?: KernelFunc;
}
export const stock: StockKernels = {};

function callStock(name: keyof StockKernels, args: KernelArgs): TensorInfo | TensorInfo[] {
  const f = stock[name];
  if (!f) throw new Error(`stock wasm ${name} kernel was not captured`);
  return f(args);
}

function input(inputs: NamedTensorInfoMap, name: string): TensorInfo {
  const t = inputs[name];
  if (!t) throw new Error(`missing kernel input '${name}'`);
  return t;
}

/**
 * Copies the box `begin`..`begin+size` of a row-major tensor of shape `shape` (element offset `src` in
 * `view`) to a contiguous block at `dst`. Trailing dimensions taken whole are merged into one run, so
 * most slices become a few long copyWithin calls.
 */
export function copyBox(
  view: Int32Array | Uint8Array,
  src: number,
  shape: readonly number[],
  begin: readonly number[],
  size: readonly number[],
  dst: number,
): void {
  const rank = shape.length;
  const strides = util.computeStrides(shape as number[]);
  let base = src;
  for (let d = 0; d < rank; d++) base += begin[d]! * (d < rank - 1 ? strides[d]! : 1);
  // Innermost dims taken whole merge with the first partially taken one into a single run.
  let run = 1;
  let d = rank - 1;
  while (d >= 0 && size[d] === shape[d]) {
    run *= shape[d]!;
    d--;
  }
  if (d < 0) {
    copyRun(view, base, dst, run);
    return;
  }
  run *= size[d]!;
  // Dims 0..d-1 are iterated; the last of them in a tight loop.
  const outerRank = d;
  if (outerRank === 0) {
    copyRun(view, base, dst, run);
    return;
  }
  const last = outerRank - 1;
  const lastCount = size[last]!;
  const lastStride = strides[last]!;
  const counter = new Array<number>(Math.max(0, last)).fill(0);
  let rowBase = base;
  let out = dst;
  for (;;) {
    if (run >= MIN_NATIVE_COPY) {
      for (let i = 0, s = rowBase; i < lastCount; i++, s += lastStride, out += run) view.copyWithin(out, s, s + run);
    } else {
      for (let i = 0, s = rowBase; i < lastCount; i++, s += lastStride) {
        for (let k = 0; k < run; k++) view[out++] = view[s + k]!;
      }
    }
    // Odometer over dims 0..last-1.
    let k = last - 1;
    while (k >= 0) {
      counter[k]!++;
      rowBase += strides[k]!;
      if (counter[k]! < size[k]!) break;
      rowBase -= counter[k]! * strides[k]!;
      counter[k] = 0;
      k--;
    }
    if (k < 0) return;
  }
}

export function sliceImpl(backend: BackendWasm, x: TensorInfo, begin: number[], size: number[]): TensorInfo {
  const out = backend.makeOutput(size, x.dtype);
  if (util.sizeFromShape(size) === 0) return out;
  const bpe = heapBytesPerElement(x.dtype) as 1 | 4;
  const view = copyView(backend, bpe);
  copyBox(view, byteOffset(backend, x) / bpe, x.shape, begin, size, byteOffset(backend, out) / bpe);
  return out;
}

function slice(args: KernelArgs): TensorInfo | TensorInfo[] {
  const x = input(args.inputs, 'x');
  if (heapBytesPerElement(x.dtype) === 0) return callStock('Slice', args);
  const { begin, size } = args.attrs as unknown as SliceAttrs;
  const [begin_, size_] = slice_util.parseSliceParams(x, begin, size);
  slice_util.assertParamsValid(x, begin_!, size_!);
  return sliceImpl(asWasm(args.backend), x, begin_!, size_!);
}

/**
 * Splits `x` along `axis` into consecutive pieces of the given sizes, in one pass over the input (each
 * output is written sequentially, which matters when the pieces are thin, e.g. unstacking the last axis).
 */
function splitAlongAxis(backend: BackendWasm, x: TensorInfo, axis: number, sizes: number[], outShapes: number[][]): TensorInfo[] {
  const outs = outShapes.map((s) => backend.makeOutput(s, x.dtype));
  const total = util.sizeFromShape(x.shape);
  if (total === 0) return outs;
  const bpe = heapBytesPerElement(x.dtype) as 1 | 4;
  // Views only after the last allocation: makeOutput may grow (and detach) the heap.
  const view = copyView(backend, bpe);
  const outer = util.sizeFromShape(x.shape.slice(0, axis));
  const inner = util.sizeFromShape(x.shape.slice(axis + 1));
  const axisDim = x.shape[axis]!;
  const runs = sizes.map((s) => s * inner);
  const dsts = outs.map((o) => byteOffset(backend, o) / bpe);
  let src = byteOffset(backend, x) / bpe;
  const nOut = outs.length;
  if (inner === 1 && sizes.every((s) => s === 1)) {
    // Unstacking the last axis: gather with one pass over x, scattering into nOut streams.
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < nOut; j++) view[dsts[j]! + o] = view[src + j]!;
      src += axisDim;
    }
    return outs;
  }
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < nOut; j++) {
      const n = runs[j]!;
      copyRun(view, src, dsts[j]!, n);
      dsts[j]! += n;
      src += n;
    }
  }
  return outs;
}

function unpack(args: KernelArgs): TensorInfo | TensorInfo[] {
  const value = input(args.inputs, 'value');
  if (heapBytesPerElement(value.dtype) === 0) return callStock('Unpack', args);
  let { axis } = args.attrs as unknown as UnpackAttrs;
  if (axis < 0) axis += value.shape.length;
  const n = value.shape[axis]!;
  const outShape = value.shape.filter((_, i) => i !== axis);
  return splitAlongAxis(
    asWasm(args.backend),
    value,
    axis,
    new Array<number>(n).fill(1),
    new Array(n).fill(0).map(() => outShape.slice()),
  );
}

function splitV(args: KernelArgs): TensorInfo | TensorInfo[] {
  const x = input(args.inputs, 'x');
  if (heapBytesPerElement(x.dtype) === 0) return callStock('SplitV', args);
  const { numOrSizeSplits, axis } = args.attrs as unknown as SplitVAttrs;
  const $axis = util.parseAxisParam(axis, x.shape)[0]!;
  const sizes = backend_util.prepareSplitSize(x, numOrSizeSplits, $axis);
  const outShapes = sizes.map((s) => {
    const shape = x.shape.slice();
    shape[$axis] = s;
    return shape;
  });
  return splitAlongAxis(asWasm(args.backend), x, $axis, sizes, outShapes);
}

function stridedSlice(args: KernelArgs): TensorInfo | TensorInfo[] {
  const x = input(args.inputs, 'x');
  if (heapBytesPerElement(x.dtype) === 0) return callStock('StridedSlice', args);
  const a = args.attrs as unknown as StridedSliceAttrs;
  const info = slice_util.sliceInfo(
    x.shape,
    a.begin,
    a.end,
    a.strides,
    a.beginMask,
    a.endMask,
    a.ellipsisMask,
    a.newAxisMask,
    a.shrinkAxisMask,
  );
  // Unit-stride slices are plain boxes; identity slices and real strides stay with the stock kernel
  // (a reshape, and a native strided gather that does not re-read the whole input).
  if (info.isIdentity || !info.strides.every((s) => s === 1)) return callStock('StridedSlice', args);
  const size = info.begin.map((b, i) => Math.max(0, info.end[i]! - b));
  const out = sliceImpl(asWasm(args.backend), x, info.begin, size);
  out.shape = info.finalShape;
  return out;
}

/**
 * Drops size-1 dims and merges input dims that stay adjacent and in order under `perm`; a transpose's
 * real cost depends only on this reduced form.
 */
export function reduceTranspose(shape: readonly number[], perm: readonly number[]): { shape: number[]; perm: number[] } {
  const kept: number[] = [];
  const newIndex = new Array<number>(shape.length).fill(-1);
  shape.forEach((d, a) => {
    if (d !== 1) {
      newIndex[a] = kept.length;
      kept.push(a);
    }
  });
  const sPerm = perm.filter((a) => shape[a] !== 1).map((a) => newIndex[a]!);
  // Runs of consecutive (squeezed) input axes in the permuted order become one axis.
  const groups: number[][] = [];
  for (const a of sPerm) {
    const g = groups[groups.length - 1];
    if (g && g[g.length - 1] === a - 1) g.push(a);
    else groups.push([a]);
  }
  const byInput = groups.slice().sort((g1, g2) => g1[0]! - g2[0]!);
  return {
    shape: byInput.map((g) => g.reduce((acc, a) => acc * shape[kept[a]!]!, 1)),
    perm: groups.map((g) => byInput.indexOf(g)),
  };
}

/** The stock transpose is fast up to rank 4 and element-by-element slow above (~60 ns/element). */
const STOCK_TRANSPOSE_MAX_RANK = 4;

function transpose(args: KernelArgs): TensorInfo | TensorInfo[] {
  const x = input(args.inputs, 'x');
  const { perm } = args.attrs as unknown as TransposeAttrs;
  const bpe = heapBytesPerElement(x.dtype);
  const reduced = reduceTranspose(x.shape, perm);
  const outShape = perm.map((a) => x.shape[a]!);
  if (bpe === 0) return callStock('Transpose', args);
  const batched2d = matrixTransposeShape(reduced.shape, reduced.perm);
  if (batched2d && batched2d[1] * batched2d[2] >= TILED_MIN_ELEMENTS) {
    // Large matrix transposes (linear-layer gradients): the stock kernel's strided walk falls out
    // of cache (~6-7 ns/element for 1024x1536); 64x64 tiles stay near 2 ns/element. Small
    // matrices fit in cache and the stock kernel is as fast.
    const backend = asWasm(args.backend);
    const out = backend.makeOutput(outShape, x.dtype);
    const view = copyView(backend, bpe as 1 | 4);
    const [batch, rows, cols] = batched2d;
    const src = byteOffset(backend, x) / bpe, dst = byteOffset(backend, out) / bpe;
    for (let b = 0; b < batch; b++) transposeTiled(view, src + b * rows * cols, rows, cols, dst + b * rows * cols);
    return out;
  }
  if (reduced.shape.length <= STOCK_TRANSPOSE_MAX_RANK) {
    // The stock kernel drops size-1 dims but does not merge, so hand it the reduced problem.
    const out = callStock('Transpose', {
      inputs: { x: viewAs(x, reduced.shape) },
      backend: args.backend,
      attrs: { perm: reduced.perm },
    }) as TensorInfo;
    out.shape = outShape;
    return out;
  }
  const backend = asWasm(args.backend);
  const out = backend.makeOutput(outShape, x.dtype);
  const view = copyView(backend, bpe as 1 | 4);
  transposeImpl(view, byteOffset(backend, x) / bpe, reduced.shape, reduced.perm, byteOffset(backend, out) / bpe);
  return out;
}

/** [batch, rows, cols] when the reduced transpose swaps the last two axes of a (batched) matrix. */
function matrixTransposeShape(shape: number[], perm: number[]): [number, number, number] | undefined {
  if (shape.length === 2 && perm[0] === 1 && perm[1] === 0) return [1, shape[0]!, shape[1]!];
  if (shape.length === 3 && perm[0] === 0 && perm[1] === 2 && perm[2] === 1) return [shape[0]!, shape[1]!, shape[2]!];
  return undefined;
}

const TILE = 64;
const TILED_MIN_ELEMENTS = 128 * 1024;

/** out[c·rows + r] = in[r·cols + c], tile by tile so reads and writes both stay in cache. */
function transposeTiled(view: Int32Array | Uint8Array, src: number, rows: number, cols: number, dst: number): void {
  for (let r0 = 0; r0 < rows; r0 += TILE) {
    const r1 = Math.min(r0 + TILE, rows);
    for (let c0 = 0; c0 < cols; c0 += TILE) {
      const c1 = Math.min(c0 + TILE, cols);
      for (let c = c0; c < c1; c++) {
        let o = dst + c * rows + r0;
        for (let i = src + r0 * cols + c, r = r0; r < r1; r++, i += cols) view[o++] = view[i]!;
      }
    }
  }
}

/**
 * Writes the output sequentially. When the innermost axis stays innermost the work is row copies,
 * otherwise a strided gather along the last output axis.
 */
function transposeImpl(view: Int32Array | Uint8Array, src: number, shape: number[], perm: number[], dst: number): void {
  const rank = shape.length;
  const inStrides = util.computeStrides(shape).concat([1]);
  const outShape = perm.map((a) => shape[a]!);
  const stride = perm.map((a) => inStrides[a]!);
  const lastN = outShape[rank - 1]!;
  const lastStride = stride[rank - 1]!;
  const contiguous = lastStride === 1;
  const counter = new Array<number>(rank - 1).fill(0);
  let s0 = src;
  let out = dst;
  for (;;) {
    if (contiguous) {
      copyRun(view, s0, out, lastN);
      out += lastN;
    } else {
      for (let i = 0, s = s0; i < lastN; i++, s += lastStride) view[out++] = view[s]!;
    }
    let k = rank - 2;
    while (k >= 0) {
      counter[k]!++;
      s0 += stride[k]!;
      if (counter[k]! < outShape[k]!) break;
      s0 -= counter[k]! * stride[k]!;
      counter[k] = 0;
      k--;
    }
    if (k < 0) return;
  }
}

export const copyKernelFuncs = {
  Slice: slice as KernelFunc,
  Unpack: unpack as KernelFunc,
  SplitV: splitV as KernelFunc,
  StridedSlice: stridedSlice as KernelFunc,
  Transpose: transpose as KernelFunc,
} satisfies Record<keyof StockKernels, KernelFunc>;
