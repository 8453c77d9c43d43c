import { decodeTensorBytes, alignedView } from './dtype-codec.js';
import type { TorchDType } from './pickle-values.js';
import type { SafetensorsDType, TensorData } from './tensor-types.js';

/** torch's legacy storage classes, as pickled in persistent ids, and what they hold. */
export const STORAGE_DTYPES: ReadonlyMap<string, TorchDType> = new Map([
  ['FloatStorage', 'float32'],
  ['DoubleStorage', 'float64'],
  ['HalfStorage', 'float16'],
  ['BFloat16Storage', 'bfloat16'],
  ['LongStorage', 'int64'],
  ['IntStorage', 'int32'],
  ['ShortStorage', 'int16'],
  ['CharStorage', 'int8'],
  ['ByteStorage', 'uint8'],
  ['BoolStorage', 'bool'],
]);

export const TORCH_ITEM_SIZE: Readonly<Record<TorchDType, number>> = {
  float32: 4,
  float64: 8,
  float16: 2,
  bfloat16: 2,
  int64: 8,
  int32: 4,
  int16: 2,
  int8: 1,
  uint8: 1,
  bool: 1,
};

const SAME_AS_SAFETENSORS: Partial<Record<TorchDType, SafetensorsDType>> = {
  float32: 'F32',
  float16: 'F16',
  bfloat16: 'BF16',
  int64: 'I64',
  int32: 'I32',
  uint8: 'U8',
};

/** Contiguous little-endian bytes of a torch dtype -> float32 (floats) or int32 (integers, bool). */
export function decodeTorchBytes(dtype: TorchDType, shape: number[], bytes: Uint8Array, where: string): TensorData {
  const common = SAME_AS_SAFETENSORS[dtype];
  if (common) return decodeTensorBytes(common, shape, bytes, where);
  switch (dtype) {
    case 'float64':
      return { dtype: 'float32', shape, data: new Float32Array(alignedView(bytes, Float64Array)) };
    case 'int16':
      return { dtype: 'int32', shape, data: new Int32Array(alignedView(bytes, Int16Array)) };
    case 'int8':
      return { dtype: 'int32', shape, data: new Int32Array(alignedView(bytes, Int8Array)) };
    default: // bool: any non-zero byte is true
      return { dtype: 'int32', shape, data: Int32Array.from(bytes, (b) => (b ? 1 : 0)) };
  }
}
