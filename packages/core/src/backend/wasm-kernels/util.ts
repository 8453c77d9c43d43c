import { getKernel, util } from '@tensorflow/tfjs-core';
import type { DataType, NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

/** Every kernel here is registered for this backend name only. */
export const WASM = 'wasm';

/** Kernel functions receive the backend as `{}`; on the 'wasm' registry it is always a BackendWasm. */
export function asWasm(backend: unknown): BackendWasm {
  return backend as BackendWasm;
}

/**
 * The current wasm memory. Any allocation (makeOutput, a nested kernel) may grow the memory and
 * detach earlier views, so callers take views only after their last allocation.
 */
export function heapBuffer(backend: BackendWasm): ArrayBuffer {
  return (backend.wasm as unknown as { HEAPU8: Uint8Array }).HEAPU8.buffer as ArrayBuffer;
}

/** Byte offset of a tensor's data in the wasm heap. */
export function byteOffset(backend: BackendWasm, t: TensorInfo): number {
  return backend.dataIdMap.get(t.dataId).memoryOffset;
}

/** Float32 view of the whole heap plus the element offset of each given tensor. */
export function f32Heap(backend: BackendWasm): Float32Array {
  return new Float32Array(heapBuffer(backend));
}

/** Element offset of a 4-byte tensor in a whole-heap 4-byte view. */
export function off4(backend: BackendWasm, t: TensorInfo): number {
  return byteOffset(backend, t) >>> 2;
}

/** Bytes per element for the dtypes the wasm heap stores; 0 for the ones it does not (string, complex64). */
export function heapBytesPerElement(dtype: DataType): 0 | 1 | 4 {
  if (dtype === 'float32' || dtype === 'int32') return 4;
  if (dtype === 'bool') return 1;
  return 0;
}

/**
 * A whole-heap integer view whose element size matches the dtype. Copies go through integer views so
 * they are bit-exact (a float view could canonicalise NaN payloads).
 */
export function copyView(backend: BackendWasm, bpe: 1 | 4): Int32Array | Uint8Array {
  const buf = heapBuffer(backend);
  return bpe === 4 ? new Int32Array(buf) : new Uint8Array(buf);
}

/** Runs below this length are copied element by element: a copyWithin call costs more than that. */
export const MIN_NATIVE_COPY = 24;

/** Copies `n` elements inside one heap view. */
export function copyRun(view: Int32Array | Uint8Array | Float32Array, src: number, dst: number, n: number): void {
  if (n >= MIN_NATIVE_COPY) {
    view.copyWithin(dst, src, src + n);
  } else {
    for (let k = 0; k < n; k++) view[dst + k] = view[src + k]!;
  }
}

/** Allocates an output and fills it with zeros (wasm malloc does not clear memory). */
export function makeZeros(backend: BackendWasm, shape: number[], dtype: DataType): TensorInfo {
  const out = backend.makeOutput(shape, dtype);
  const bpe = heapBytesPerElement(dtype);
  const n = util.sizeFromShape(shape);
  if (n > 0 && bpe > 0) {
    const start = byteOffset(backend, out);
    new Uint8Array(heapBuffer(backend)).fill(0, start, start + n * bpe);
  }
  return out;
}

/** A TensorInfo that reads the same memory with another shape (no refcount change; never dispose it). */
export function viewAs(t: TensorInfo, shape: number[]): TensorInfo {
  return { dataId: t.dataId, shape, dtype: t.dtype };
}

/**
 * Runs another registered wasm kernel directly (no engine bookkeeping). The result is an
 * intermediate owned by the caller: dispose it with `backend.disposeData` unless returned.
 */
export function runWasmKernel(
  backend: BackendWasm,
  kernelName: string,
  inputs: NamedTensorInfoMap,
  attrs: NamedAttrMap,
): TensorInfo {
  const config = getKernel(kernelName, WASM);
  if (!config) throw new Error(`wasm kernel ${kernelName} is not registered`);
  const out = config.kernelFunc({ inputs, backend, attrs });
  if (Array.isArray(out)) throw new Error(`wasm kernel ${kernelName} returned several outputs`);
  return out;
}

export function transposeWasm(backend: BackendWasm, x: TensorInfo, perm: number[]): TensorInfo {
  return runWasmKernel(backend, 'Transpose', { x }, { perm });
}

/** 2-D `a @ b` through the backend's XNNPACK matmul (the non-transposed path is the fast one). */
export function matMulWasm(backend: BackendWasm, a: TensorInfo, b: TensorInfo): TensorInfo {
  return runWasmKernel(backend, 'BatchMatMul', { a, b }, { transposeA: false, transposeB: false });
}
