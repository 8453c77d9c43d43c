import { MigeInputError } from '../errors.js';
import { f16DecodeTable, f32BitsToBf16Bits, f32BitsToF16Bits } from './half-float.js';
import type { SafetensorsDType, TensorData, WritableTensor } from './tensor-types.js';

/** Bytes per element of each safetensors dtype. */
export const ITEM_SIZE: Readonly<Record<SafetensorsDType, number>> = {
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  U8: 1,
};

export const SAFETENSORS_DTYPES = Object.keys(ITEM_SIZE) as SafetensorsDType[];

export function isSafetensorsDType(value: unknown): value is SafetensorsDType {
  return typeof value === 'string' && Object.hasOwn(ITEM_SIZE, value);
}

/** Files are little-endian; typed-array views are only a valid reinterpretation on such hosts. */
const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export function requireLittleEndianHost(where: string): void {
  if (!HOST_LITTLE_ENDIAN) {
    throw new MigeInputError('big-endian hosts are not supported by the tensor IO', where);
  }
}

type TypedCtor<T> = { new (buffer: ArrayBufferLike, byteOffset: number, length: number): T; BYTES_PER_ELEMENT: number };

/** A view of `bytes` as T, copying first when the bytes are not aligned for T. */
export function alignedView<T>(bytes: Uint8Array, Ctor: TypedCtor<T>): T {
  const n = bytes.byteLength / Ctor.BYTES_PER_ELEMENT;
  if (bytes.byteOffset % Ctor.BYTES_PER_ELEMENT === 0) return new Ctor(bytes.buffer, bytes.byteOffset, n);
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return new Ctor(copy.buffer, 0, n);
}

/** int64 pairs (low, high) -> int32, rejecting values outside int32 range. */
export function int64ToInt32(words: Int32Array, where: string): Int32Array {
  const n = words.length / 2;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const lo = words[2 * i] as number;
    const hi = words[2 * i + 1] as number;
    if (hi !== lo >> 31) {
      const value = (BigInt(hi) << 32n) | BigInt(lo >>> 0);
      throw new MigeInputError(`int64 value ${value} at index ${i} does not fit in int32`, where);
    }
    out[i] = lo;
  }
  return out;
}

/**
 * Raw little-endian bytes of `dtype` -> computed values. The result may alias `bytes` (F32 and
 * I32 need no conversion), so callers pass buffers they own.
 */
export function decodeTensorBytes(
  dtype: SafetensorsDType,
  shape: number[],
  bytes: Uint8Array,
  where: string,
): TensorData {
  requireLittleEndianHost(where);
  switch (dtype) {
    case 'F32':
      return { dtype: 'float32', shape, data: alignedView(bytes, Float32Array) };
    case 'I32':
      return { dtype: 'int32', shape, data: alignedView(bytes, Int32Array) };
    case 'F16': {
      const table = f16DecodeTable();
      const halves = alignedView(bytes, Uint16Array);
      const out = new Float32Array(halves.length);
      for (let i = 0; i < halves.length; i++) out[i] = table[halves[i] as number] as number;
      return { dtype: 'float32', shape, data: out };
    }
    case 'BF16': {
      const halves = alignedView(bytes, Uint16Array);
      const out = new Float32Array(halves.length);
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < halves.length; i++) bits[i] = (halves[i] as number) << 16;
      return { dtype: 'float32', shape, data: out };
    }
    case 'I64':
      return { dtype: 'int32', shape, data: int64ToInt32(alignedView(bytes, Int32Array), where) };
    case 'U8':
      return { dtype: 'int32', shape, data: Int32Array.from(bytes) };
  }
}

function notRepresentable(value: number | bigint, index: number, dtype: SafetensorsDType, where: string): never {
  throw new MigeInputError(`value ${value} at index ${index} is not representable as ${dtype}`, where);
}

function checkedInteger(
  value: number | bigint,
  index: number,
  dtype: SafetensorsDType,
  min: number,
  max: number,
  where: string,
): number {
  const v = Number(value);
  if (!Number.isInteger(v) || v < min || v > max || (typeof value === 'bigint' && BigInt(v) !== value)) {
    notRepresentable(value, index, dtype, where);
  }
  return v;
}

function asFloat32(data: WritableTensor['data'], start: number, count: number): Float32Array {
  if (data instanceof Float32Array) return data.subarray(start, start + count);
  const out = new Float32Array(count);
  if (data instanceof BigInt64Array) {
    for (let i = 0; i < count; i++) out[i] = Number(data[start + i]);
  } else {
    out.set(data.subarray(start, start + count));
  }
  return out;
}

function bytesOf(view: ArrayBufferView): Uint8Array {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

/**
 * The little-endian bytes of elements [start, start + count) of `tensor` in its dtype. Values
 * are converted (float32 -> F16/BF16 round-to-nearest-even, integers range-checked); data that is
 * already in the target layout is returned as a view, not copied.
 */
export function encodeElements(tensor: WritableTensor, start: number, count: number, where: string): Uint8Array {
  requireLittleEndianHost(where);
  const { dtype, data } = tensor;
  switch (dtype) {
    case 'F32':
      return bytesOf(asFloat32(data, start, count));
    case 'F16':
    case 'BF16': {
      if (data instanceof Uint16Array) return bytesOf(data.subarray(start, start + count));
      const values = asFloat32(data, start, count);
      const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
      const out = new Uint16Array(count);
      const convert = dtype === 'F16' ? f32BitsToF16Bits : f32BitsToBf16Bits;
      for (let i = 0; i < count; i++) out[i] = convert(bits[i] as number);
      return bytesOf(out);
    }
    case 'I64': {
      if (data instanceof BigInt64Array) return bytesOf(data.subarray(start, start + count));
      const out = new Int32Array(2 * count);
      for (let i = 0; i < count; i++) {
        const v = checkedInteger(
          data[start + i] as number,
          start + i,
          dtype,
          Number.MIN_SAFE_INTEGER,
          Number.MAX_SAFE_INTEGER,
          where,
        );
        const hi = Math.floor(v / 2 ** 32);
        out[2 * i] = v - hi * 2 ** 32;
        out[2 * i + 1] = hi;
      }
      return bytesOf(out);
    }
    case 'I32': {
      if (data instanceof Int32Array) return bytesOf(data.subarray(start, start + count));
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) {
        out[i] = checkedInteger(data[start + i] as number | bigint, start + i, dtype, -(2 ** 31), 2 ** 31 - 1, where);
      }
      return bytesOf(out);
    }
    case 'U8': {
      if (data instanceof Uint8Array) return data.subarray(start, start + count);
      const out = new Uint8Array(count);
      for (let i = 0; i < count; i++) {
        out[i] = checkedInteger(data[start + i] as number | bigint, start + i, dtype, 0, 255, where);
      }
      return out;
    }
  }
}
