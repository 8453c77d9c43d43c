import { describe, expect, it } from 'vitest';
import { MigeInputError, parseSafetensors, serializeSafetensors, tf, writableFromTensor, writableFromTensors } from '../../src/index.js';
import { useBackend } from '../helpers.js';

describe('writableFromTensor', () => {
  it('turns float32 and int32 tensors into safetensors data that reads back equal', async () => {
    await useBackend('cpu');
    const f = tf.tensor2d([[1.5, -2], [3, 4.25]]);
    const i = tf.tensor1d([7, -8], 'int32');
    expect(writableFromTensor(f)).toEqual({ dtype: 'F32', shape: [2, 2], data: new Float32Array([1.5, -2, 3, 4.25]) });
    const bytes = serializeSafetensors(writableFromTensors(new Map<string, tf.Tensor>([['f', f], ['i', i]])));
    const back = parseSafetensors(bytes).tensors;
    expect([back.get('f')?.dtype, back.get('f')?.shape, Array.from(back.get('f')?.data ?? [])]).toEqual(['float32', [2, 2], [1.5, -2, 3, 4.25]]);
    expect([back.get('i')?.dtype, Array.from(back.get('i')?.data ?? [])]).toEqual(['int32', [7, -8]]);
    expect(() => writableFromTensor(tf.tensor1d([true], 'bool'), 'mask')).toThrow(MigeInputError);
    expect(() => writableFromTensor(tf.tensor1d([true], 'bool'), 'mask')).toThrow(/mask: has dtype bool; only float32 and int32/);
  });
});
