import * as tf from '@tensorflow/tfjs-core';
import { MigeInputError } from '../errors.js';
import type { WritableTensor } from './tensor-types.js';

/** A tfjs tensor as safetensors data (float32 → F32, int32 → I32); `name` labels the error for other dtypes. */
export function writableFromTensor(t: tf.Tensor, name = 'tensor'): WritableTensor {
  if (t.dtype === 'float32') return { dtype: 'F32', shape: [...t.shape], data: t.dataSync() as Float32Array };
  if (t.dtype === 'int32') return { dtype: 'I32', shape: [...t.shape], data: t.dataSync() as Int32Array };
  throw new MigeInputError(`has dtype ${t.dtype}; only float32 and int32 tensors can be saved`, name);
}

/** `writableFromTensor` over a whole map, e.g. a module's state dict; errors name `where` (a file) and the tensor. */
export function writableFromTensors(tensors: Iterable<[string, tf.Tensor]>, where?: string): Map<string, WritableTensor> {
  return new Map([...tensors].map(([k, t]) => [k, writableFromTensor(t, where ? `${where}: tensor ${k}` : k)]));
}
