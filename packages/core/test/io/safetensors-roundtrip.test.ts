import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { lazyTempDir } from '../../src/testing/index.js';
import {
  parseSafetensors,
  readSafetensors,
  SafetensorsReader,
  serializeSafetensors,
  writeSafetensors,
  type TensorData,
} from '../../src/io/safetensors.js';

const tmp = lazyTempDir('io-roundtrip');

afterAll(tmp.remove);

const tempDir = tmp.get;

function roundTrip(tensors: Parameters<typeof serializeSafetensors>[0], metadata?: Record<string, string>) {
  return parseSafetensors(serializeSafetensors(tensors, metadata));
}

function get(map: Map<string, TensorData>, name: string): TensorData {
  const t = map.get(name);
  if (!t) throw new Error(`missing ${name}`);
  return t;
}

describe('safetensors round trip per dtype', () => {
  it('F32 keeps every value bit-exactly, including -0, inf and nan', () => {
    const values = [0, -0, 1.5, -3.25e-39, 3.4028234663852886e38, Infinity, -Infinity, NaN, Math.fround(Math.PI)];
    const t = get(roundTrip({ x: { dtype: 'F32', shape: [3, 3], data: new Float32Array(values) } }).tensors, 'x');
    expect(t.dtype).toBe('float32');
    expect(t.shape).toEqual([3, 3]);
    expect(Array.from(t.data)).toEqual(values.map((v) => Math.fround(v)));
    expect(Object.is(t.data[1], -0)).toBe(true);
  });

  it('F16 rounds to nearest even and keeps -0, inf, nan', () => {
    const input = new Float32Array([
      1,
      -0,
      0.1,
      65504,
      70000,
      -Infinity,
      NaN,
      1 + 2 ** -11,
      1 + 3 * 2 ** -11,
      2 ** -24,
      1e-9,
    ]);
    const bytes = serializeSafetensors({ h: { dtype: 'F16', shape: [11], data: input } });
    const t = get(parseSafetensors(bytes).tensors, 'h');
    expect(t.dtype).toBe('float32');
    expect(Array.from(t.data)).toEqual([
      1,
      -0,
      0.0999755859375,
      65504,
      Infinity,
      -Infinity,
      NaN,
      1,
      1 + 2 ** -9,
      2 ** -24,
      0,
    ]);
    expect(Object.is(t.data[1], -0)).toBe(true);
    // The stored bits themselves, at the end of the file (2 bytes each).
    const bits = new Uint16Array(
      bytes.buffer.slice(bytes.byteOffset + bytes.length - 22, bytes.byteOffset + bytes.length),
    );
    expect(Array.from(bits.subarray(0, 5))).toEqual([0x3c00, 0x8000, 0x2e66, 0x7bff, 0x7c00]);
  });

  it('F16 from raw Uint16Array bits is written unchanged', () => {
    const t = get(roundTrip({ h: { dtype: 'F16', shape: [2], data: new Uint16Array([0x3555, 0xc000]) } }).tensors, 'h');
    expect(Array.from(t.data)).toEqual([0.333251953125, -2]);
  });

  it('BF16 rounds to nearest even and keeps -0, inf, nan', () => {
    const input = new Float32Array([1, -0, Math.PI, 1 + 2 ** -8, 1 + 3 * 2 ** -8, -Infinity, NaN, 3.4e38, 1e-40]); // expected values checked against torch 1.13 .bfloat16()
    const t = get(roundTrip({ b: { dtype: 'BF16', shape: [9], data: input } }).tensors, 'b');
    expect(Array.from(t.data)).toEqual(
      [1, -0, 3.140625, 1, 1 + 2 ** -6, -Infinity, NaN, Infinity, 2 ** -133].map(Math.fround),
    );
    expect(Object.is(t.data[1], -0)).toBe(true);
  });

  it('I64 keeps negatives and int32 extremes; int32 input is widened', () => {
    const values = [0, -1, 2147483647, -2147483648, 12345, -987654];
    const t = get(roundTrip({ i: { dtype: 'I64', shape: [2, 3], data: new Int32Array(values) } }).tensors, 'i');
    expect(t.dtype).toBe('int32');
    expect(Array.from(t.data)).toEqual(values);
    const raw = serializeSafetensors({ i: { dtype: 'I64', shape: [2], data: new Int32Array([-1, 5]) } });
    expect(
      Array.from(new BigInt64Array(raw.buffer.slice(raw.byteOffset + raw.length - 16, raw.byteOffset + raw.length))),
    ).toEqual([-1n, 5n]);
  });

  it('I64 from BigInt64Array, and from float values that are integers', () => {
    const a = get(roundTrip({ i: { dtype: 'I64', shape: [2], data: new BigInt64Array([-7n, 9n]) } }).tensors, 'i');
    expect(Array.from(a.data)).toEqual([-7, 9]);
    const b = get(roundTrip({ i: { dtype: 'I64', shape: [2], data: new Float64Array([-3, 4]) } }).tensors, 'i');
    expect(Array.from(b.data)).toEqual([-3, 4]);
  });

  it('I32 and U8', () => {
    const tensors = roundTrip({
      i: { dtype: 'I32', shape: [3], data: new Int32Array([-2147483648, 0, 2147483647]) },
      u: { dtype: 'U8', shape: [4], data: new Uint8Array([0, 1, 128, 255]) },
      v: { dtype: 'U8', shape: [2], data: new Int32Array([7, 200]) },
    }).tensors;
    expect(Array.from(get(tensors, 'i').data)).toEqual([-2147483648, 0, 2147483647]);
    expect(get(tensors, 'u').dtype).toBe('int32');
    expect(Array.from(get(tensors, 'u').data)).toEqual([0, 1, 128, 255]);
    expect(Array.from(get(tensors, 'v').data)).toEqual([7, 200]);
  });

  it('scalars (shape []) and empty tensors (a zero dimension)', () => {
    const tensors = roundTrip({
      s: { dtype: 'F32', shape: [], data: new Float32Array([2.5]) },
      e: { dtype: 'F32', shape: [0, 4], data: new Float32Array(0) },
    }).tensors;
    expect(get(tensors, 's').shape).toEqual([]);
    expect(Array.from(get(tensors, 's').data)).toEqual([2.5]);
    expect(get(tensors, 'e').shape).toEqual([0, 4]);
    expect(get(tensors, 'e').data.length).toBe(0);
  });

  it('metadata survives and Map input works like a record', () => {
    const tensors = new Map([['w', { dtype: 'F32' as const, shape: [1], data: new Float32Array([4]) }]]);
    const parsed = roundTrip(tensors, { format: 'pt', note: 'ü "quoted"' });
    expect(parsed.metadata).toEqual({ format: 'pt', note: 'ü "quoted"' });
    expect(Array.from(get(parsed.tensors, 'w').data)).toEqual([4]);
  });
});

describe('safetensors writer layout and validation', () => {
  it('matches the reference implementation byte for byte (its own test vectors)', () => {
    const data = new Float32Array([0, 1, 2, 3, 4, 5]);
    // safetensors/src/tensor.rs test_serialization: 64-byte header, no padding needed.
    const a = serializeSafetensors({ 'attn.0': { dtype: 'F32', shape: [1, 2, 3], data } });
    const headerA = '{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}';
    expect(a.readBigUInt64LE(0)).toBe(64n);
    expect(a.subarray(8, 72).toString()).toBe(headerA.padEnd(64, ' '));
    expect(Array.from(new Float32Array(a.buffer.slice(a.byteOffset + 72, a.byteOffset + 96)))).toEqual(
      Array.from(data),
    );
    // test_serialization_forced_alignement: 65-byte JSON padded with 7 spaces to 72.
    const b = serializeSafetensors({ attn0: { dtype: 'F32', shape: [1, 1, 2, 3], data } });
    expect(b.readBigUInt64LE(0)).toBe(72n);
    expect(b.subarray(8, 80).toString()).toBe(
      '{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}       ',
    );
    // test_empty: with and without metadata.
    expect(Array.from(serializeSafetensors({}))).toEqual([8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32]);
    const c = serializeSafetensors({}, { framework: 'pt' });
    expect(c.readBigUInt64LE(0)).toBe(40n);
    expect(c.subarray(8).toString()).toBe('{"__metadata__":{"framework":"pt"}}     ');
  });

  it('orders tensors by dtype (I64, F32, I32, BF16, F16, U8) then name, so every tensor is aligned', () => {
    const bytes = serializeSafetensors({
      u: { dtype: 'U8', shape: [3], data: new Uint8Array([1, 2, 3]) },
      h: { dtype: 'F16', shape: [1], data: new Float32Array([1]) },
      b: { dtype: 'BF16', shape: [1], data: new Float32Array([1]) },
      z: { dtype: 'F32', shape: [1], data: new Float32Array([1]) },
      a: { dtype: 'F32', shape: [1], data: new Float32Array([1]) },
      i: { dtype: 'I32', shape: [1], data: new Int32Array([1]) },
      l: { dtype: 'I64', shape: [1], data: new Int32Array([1]) },
    });
    const reader = SafetensorsReader.fromBuffer(bytes);
    expect(reader.keys()).toEqual(['l', 'a', 'z', 'i', 'b', 'h', 'u']);
    for (const name of reader.keys()) {
      const info = reader.info(name);
      const itemSize =
        info.byteLength /
        Math.max(
          1,
          info.shape.reduce((x, y) => x * y, 1),
        );
      expect(info.byteOffset % itemSize).toBe(0);
    }
    expect(reader.info('u')).toEqual({
      name: 'u',
      dtype: 'U8',
      shape: [3],
      byteOffset: bytes.length - 3,
      byteLength: 3,
    });
  });

  it('rejects bad tensors before writing, naming them', () => {
    expect(() => serializeSafetensors({ w: { dtype: 'F32', shape: [2, 2], data: new Float32Array(3) } })).toThrow(
      "tensor 'w': data has 3 elements but shape [2, 2] needs 4",
    );
    expect(() => serializeSafetensors({ w: { dtype: 'F32', shape: [-1], data: new Float32Array(0) } })).toThrow(
      /shape must be an array of non-negative integers/,
    );
    expect(() =>
      serializeSafetensors({ __metadata__: { dtype: 'F32', shape: [], data: new Float32Array(1) } }),
    ).toThrow(/reserved/);
    expect(() => serializeSafetensors({ w: { dtype: 'U8', shape: [2], data: new Int32Array([1, 256]) } })).toThrow(
      '<buffer>:w: value 256 at index 1 is not representable as U8',
    );
    expect(() => serializeSafetensors({ w: { dtype: 'I32', shape: [1], data: new Float32Array([0.5]) } })).toThrow(
      /value 0.5 at index 0 is not representable as I32/,
    );
    expect(() => serializeSafetensors({ w: { dtype: 'I64', shape: [1], data: new Float64Array([NaN]) } })).toThrow(
      /value NaN at index 0 is not representable as I64/,
    );
  });
});

describe('writing and reading files', () => {
  it('writeSafetensors and serializeSafetensors produce identical bytes; the lazy reader reads each tensor', () => {
    const file = path.join(tempDir(), 'model.safetensors');
    const tensors = {
      'layer.weight': { dtype: 'F32' as const, shape: [2, 3], data: new Float32Array([1, 2, 3, 4, 5, 6]) },
      'layer.bias': { dtype: 'BF16' as const, shape: [2], data: new Float32Array([0.5, -0.25]) },
      ids: { dtype: 'I64' as const, shape: [3], data: new Int32Array([3, -4, 5]) },
    };
    writeSafetensors(file, tensors, { kind: 'test' });
    expect(fs.readFileSync(file).equals(serializeSafetensors(tensors, { kind: 'test' }))).toBe(true);
    const reader = SafetensorsReader.open(file);
    expect(reader.metadata).toEqual({ kind: 'test' });
    expect(reader.keys()).toEqual(['ids', 'layer.weight', 'layer.bias']);
    expect(Array.from(reader.read('layer.bias').data)).toEqual([0.5, -0.25]);
    expect(reader.read('layer.weight').shape).toEqual([2, 3]);
    reader.close();
    const all = readSafetensors(file);
    expect(Array.from(get(all, 'ids').data)).toEqual([3, -4, 5]);
  });

  it('streams tensors larger than one conversion chunk', () => {
    const file = path.join(tempDir(), 'big.safetensors');
    const n = (1 << 20) * 2 + 17; // more than two chunks
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = (i % 1000) - 500;
    writeSafetensors(file, { big: { dtype: 'F16', shape: [n], data } });
    const back = get(readSafetensors(file), 'big').data;
    expect(back.length).toBe(n);
    expect(back[0]).toBe(-500);
    expect(back[n - 1]).toBe(((n - 1) % 1000) - 500);
    expect(back[(1 << 20) + 3]).toBe((((1 << 20) + 3) % 1000) - 500);
  });

  it('is atomic: a failure mid-write leaves the existing file untouched and no temp file behind', () => {
    const dir = fs.mkdtempSync(path.join(tempDir(), 'atomic-'));
    const file = path.join(dir, 'weights.safetensors');
    writeSafetensors(file, { w: { dtype: 'F32', shape: [1], data: new Float32Array([42]) } });
    const before = fs.readFileSync(file);
    // The header and first tensor are written before the bad U8 value is met.
    const bad = {
      a: { dtype: 'F32' as const, shape: [4], data: new Float32Array(4) },
      z: { dtype: 'U8' as const, shape: [2], data: new Int32Array([1, 300]) },
    };
    expect(() => writeSafetensors(file, bad)).toThrow(`${file}:z: value 300 at index 1 is not representable as U8`);
    expect(fs.readFileSync(file).equals(before)).toBe(true);
    expect(fs.readdirSync(dir)).toEqual(['weights.safetensors']);
    // And a successful overwrite replaces it.
    writeSafetensors(file, { w: { dtype: 'F32', shape: [1], data: new Float32Array([7]) } });
    expect(Array.from(get(readSafetensors(file), 'w').data)).toEqual([7]);
    expect(fs.readdirSync(dir)).toEqual(['weights.safetensors']);
  });

  it('fails cleanly when the directory does not exist', () => {
    const file = path.join(tempDir(), 'missing-dir', 'x.safetensors');
    expect(() => writeSafetensors(file, {})).toThrow(/ENOENT/);
  });
});
