/** The safetensors dtypes MIGE.js reads and writes. */
export type SafetensorsDType = 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'U8';

/**
 * A tensor as computed with: floats widen to float32, integers to int32. Data is row-major
 * (C order) with `data.length === product(shape)`; a scalar has shape [] and one element.
 */
export interface TensorData {
  dtype: 'float32' | 'int32';
  shape: number[];
  data: Float32Array | Int32Array;
}

/** Where one tensor lives in a safetensors file. */
export interface TensorInfo {
  name: string;
  dtype: SafetensorsDType;
  shape: number[];
  /** Absolute offset of the tensor's first byte in the file (or in-memory buffer). */
  byteOffset: number;
  byteLength: number;
}

/**
 * Element values to write. They are values, not raw bytes, with two exceptions that let already
 * encoded data pass through untouched: a Uint16Array for F16/BF16 holds the raw half-float bit
 * patterns, and a BigInt64Array is accepted for I64.
 */
export type WritableTensorData =
  | Float32Array
  | Float64Array
  | Int32Array
  | Uint32Array
  | Int16Array
  | Uint16Array
  | Int8Array
  | Uint8Array
  | BigInt64Array;

export interface WritableTensor {
  dtype: SafetensorsDType;
  shape: number[];
  data: WritableTensorData;
}
