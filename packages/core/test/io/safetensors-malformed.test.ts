import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { lazyTempDir } from '../../src/testing/index.js';
import { MigeInputError } from '../../src/errors.js';
import { parseSafetensors, SafetensorsReader } from '../../src/io/safetensors.js';
import { f32Bytes, rawSafetensors } from './helpers/safetensors-bytes.js';

const entry = (dtype: string, shape: unknown, offsets: unknown): string =>
  JSON.stringify({ dtype, shape, data_offsets: offsets });

/** Each case: bytes of a malformed file and the specific message it must be rejected with. */
const cases: [string, Uint8Array, RegExp][] = [
  ['file shorter than 8 bytes', new Uint8Array([1, 0, 0]), /3 bytes, too short for the 8-byte header length/],
  ['header length 0', rawSafetensors(''), /header length is 0/],
  [
    'header length larger than the file',
    rawSafetensors('{}', new Uint8Array(0), 4096n),
    /header length 4096 exceeds the file size \(10 bytes\)/,
  ],
  [
    'header length 2^63 (over the bound, never allocated)',
    rawSafetensors('{}', new Uint8Array(0), 2n ** 63n),
    /header length 9223372036854775808 exceeds the limit of 100000000 bytes/,
  ],
  ['header not UTF-8', rawSafetensors(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d])), /header is not valid UTF-8/],
  ['header not JSON', rawSafetensors('{"a": '), /header is not valid JSON/],
  ['JSON array instead of object', rawSafetensors('[1, 2]'), /header JSON must be an object, got an array/],
  ['JSON null', rawSafetensors('null'), /header JSON must be an object, got null/],
  ['entry not an object', rawSafetensors('{"w": [1, 2]}'), /tensor 'w': entry must be an object, got an array/],
  [
    'missing dtype',
    rawSafetensors('{"w": {"shape": [1], "data_offsets": [0, 4]}}', f32Bytes([1])),
    /tensor 'w': missing dtype/,
  ],
  [
    'unknown dtype',
    rawSafetensors(`{"w": ${entry('Q7', [1], [0, 4])}}`, f32Bytes([1])),
    /tensor 'w': unsupported dtype string "Q7"/,
  ],
  [
    'known but unsupported dtype',
    rawSafetensors(`{"w": ${entry('F64', [1], [0, 8])}}`, new Uint8Array(8)),
    /unsupported dtype string "F64" \(supported: F32, F16, BF16, I64, I32, U8\)/,
  ],
  [
    'shape not an array',
    rawSafetensors(`{"w": ${entry('F32', 4, [0, 4])}}`, f32Bytes([1])),
    /tensor 'w': shape must be an array of non-negative safe integers, got 4/,
  ],
  [
    'negative dimension',
    rawSafetensors(`{"w": ${entry('F32', [-1], [0, 4])}}`, f32Bytes([1])),
    /shape must be an array of non-negative safe integers, got \[-1\]/,
  ],
  [
    'fractional dimension',
    rawSafetensors(`{"w": ${entry('F32', [1.5], [0, 4])}}`, f32Bytes([1])),
    /shape must be an array of non-negative safe integers, got \[1.5\]/,
  ],
  [
    'dimension beyond 2^53',
    rawSafetensors(`{"w": {"dtype": "F32", "shape": [9007199254740993], "data_offsets": [0, 4]}}`, f32Bytes([1])),
    /shape must be an array of non-negative safe integers/,
  ],
  [
    'data_offsets missing',
    rawSafetensors('{"w": {"dtype": "F32", "shape": [1]}}', f32Bytes([1])),
    /tensor 'w': data_offsets must be \[begin, end\]/,
  ],
  [
    'data_offsets with three numbers',
    rawSafetensors(`{"w": ${entry('F32', [1], [0, 4, 8])}}`, f32Bytes([1])),
    /data_offsets must be \[begin, end\] with non-negative safe integers, got \[0,4,8\]/,
  ],
  [
    'data_offsets not integers',
    rawSafetensors(`{"w": ${entry('F32', [1], ['0', 4])}}`, f32Bytes([1])),
    /data_offsets must be \[begin, end\]/,
  ],
  [
    'data_offsets begin > end',
    rawSafetensors(`{"w": ${entry('F32', [0], [4, 0])}}`, f32Bytes([1])),
    /tensor 'w': data_offsets begin 4 > end 0/,
  ],
  [
    'byte length != numel * itemsize',
    rawSafetensors(`{"w": ${entry('F32', [3], [0, 8])}}`, f32Bytes([1, 2])),
    /tensor 'w': byte length 8 does not match shape \[3\] x F32 \(12 bytes\)/,
  ],
  [
    'shape product overflow',
    rawSafetensors(`{"w": ${entry('F32', [2 ** 40, 2 ** 40], [0, 4])}}`, f32Bytes([1])),
    /byte length 4 does not match shape \[1099511627776, 1099511627776\] x F32 \(4835703278458516698824704 bytes\)/,
  ],
  [
    'offsets beyond the data section',
    rawSafetensors(`{"w": ${entry('F32', [2], [0, 8])}}`, f32Bytes([1])),
    /tensor 'w': data_offsets \[0, 8\] out of range of the 4-byte data section/,
  ],
  [
    'overlapping tensors',
    rawSafetensors(`{"a": ${entry('F32', [2], [0, 8])}, "b": ${entry('F32', [2], [4, 12])}}`, f32Bytes([1, 2, 3])),
    /tensors 'a' \[0, 8\] and 'b' \[4, 12\] overlap/,
  ],
  [
    'aliased tensors (same range)',
    rawSafetensors(`{"a": ${entry('F32', [1], [0, 4])}, "b": ${entry('F32', [1], [0, 4])}}`, f32Bytes([1])),
    /tensors '[ab]' \[0, 4\] and '[ab]' \[0, 4\] overlap/,
  ],
  [
    'gap between tensors',
    rawSafetensors(`{"a": ${entry('F32', [1], [0, 4])}, "b": ${entry('F32', [1], [8, 12])}}`, f32Bytes([1, 2, 3])),
    /gap of 4 bytes after 'a', before 'b' \[8, 12\]/,
  ],
  [
    'hole before the first tensor',
    rawSafetensors(`{"a": ${entry('F32', [1], [4, 8])}}`, f32Bytes([1, 2])),
    /gap of 4 bytes at the start of the data section, before 'a'/,
  ],
  [
    'trailing bytes after the last tensor',
    rawSafetensors(`{"a": ${entry('F32', [1], [0, 4])}}`, f32Bytes([1, 2])),
    /4 trailing bytes at the end of the data section are not covered by any tensor/,
  ],
  [
    'duplicate tensor key',
    rawSafetensors(`{"a": ${entry('F32', [1], [0, 4])}, "a": ${entry('F32', [1], [4, 8])}}`, f32Bytes([1, 2])),
    /duplicate key 'a' in header/,
  ],
  [
    'duplicate key hidden by an escape',
    rawSafetensors(`{"ab": ${entry('F32', [1], [0, 4])}, "\\u0061b": ${entry('F32', [1], [4, 8])}}`, f32Bytes([1, 2])),
    /duplicate key 'ab' in header/,
  ],
  [
    'duplicate field inside an entry',
    rawSafetensors(`{"a": {"dtype": "F32", "shape": [1], "dtype": "I32", "data_offsets": [0, 4]}}`, f32Bytes([1])),
    /duplicate key 'dtype' inside 'a' in header/,
  ],
  [
    '__metadata__ not an object',
    rawSafetensors('{"__metadata__": "x"}'),
    /__metadata__ must be an object mapping strings to strings, got string "x"/,
  ],
  [
    '__metadata__ with a non-string value',
    rawSafetensors('{"__metadata__": {"epoch": 3}}'),
    /__metadata__ must map strings to strings, but 'epoch' is number 3/,
  ],
];

describe('malformed safetensors are rejected with a specific error', () => {
  it('covers at least 15 distinct cases', () => {
    expect(new Set(cases.map((c) => c[0])).size).toBe(cases.length);
    expect(cases.length).toBeGreaterThanOrEqual(15);
  });

  for (const [name, bytes, message] of cases) {
    it(name, () => {
      expect(() => parseSafetensors(bytes, { where: 'bad.safetensors' })).toThrow(message);
      try {
        parseSafetensors(bytes, { where: 'bad.safetensors' });
      } catch (error) {
        expect(error).toBeInstanceOf(MigeInputError);
        expect((error as MigeInputError).where).toBe('bad.safetensors');
      }
    });
  }

  it('the header bound is configurable and checked before reading the header', () => {
    const bytes = rawSafetensors(`{"w": ${entry('F32', [1], [0, 4])}}`, f32Bytes([7]));
    expect(parseSafetensors(bytes).tensors.get('w')?.data[0]).toBe(7);
    expect(() => parseSafetensors(bytes, { maxHeaderBytes: 16 })).toThrow(/exceeds the limit of 16 bytes/);
  });

  it('whitespace padding after the JSON (as the reference writes) is accepted', () => {
    const bytes = rawSafetensors(`{"w": ${entry('F32', [1], [0, 4])}}      `, f32Bytes([7]));
    expect(Array.from(parseSafetensors(bytes).tensors.get('w')?.data ?? [])).toEqual([7]);
  });
});

describe('malformed files on disk', () => {
  const tmp = lazyTempDir('io-malformed');
  afterAll(tmp.remove);
  const tempDir = tmp.get;

  it('names the file path and does not leak the descriptor', () => {
    const file = path.join(tempDir(), 'gap.safetensors');
    fs.writeFileSync(file, rawSafetensors(`{"a": ${entry('F32', [1], [4, 8])}}`, f32Bytes([1, 2])));
    expect(() => SafetensorsReader.open(file)).toThrow(`${file}: gap of 4 bytes at the start of the data section`);
  });

  it('rejects a huge declared header length in a tiny file without allocating it', () => {
    const file = path.join(tempDir(), 'huge-header.safetensors');
    fs.writeFileSync(file, rawSafetensors('{}', new Uint8Array(0), 0xffffffffffffffffn));
    expect(() => SafetensorsReader.open(file)).toThrow(/header length 18446744073709551615 exceeds the limit/);
    fs.writeFileSync(file, rawSafetensors('{}', new Uint8Array(0), 2n ** 39n));
    expect(() => SafetensorsReader.open(file, { maxHeaderBytes: 2 ** 40 })).toThrow(
      /header length 549755813888 exceeds the file size \(10 bytes\)/,
    );
  });

  it('an I64 value outside int32 range fails on read, naming the tensor', () => {
    const file = path.join(tempDir(), 'big-int.safetensors');
    const data = new Uint8Array(new BigInt64Array([5n, -(2n ** 31n) - 1n]).buffer);
    fs.writeFileSync(file, rawSafetensors(`{"ids": ${entry('I64', [2], [0, 16])}}`, data));
    const reader = SafetensorsReader.open(file);
    expect(() => reader.read('ids')).toThrow(`${file}:ids: int64 value -2147483649 at index 1 does not fit in int32`);
    reader.close();
  });

  it('an unknown tensor name is a clear error', () => {
    const reader = SafetensorsReader.fromBuffer(rawSafetensors('{}        '), { where: 'x.safetensors' });
    expect(reader.keys()).toEqual([]);
    expect(() => reader.read('nope')).toThrow("x.safetensors: no tensor named 'nope'");
  });
});
