import { mkdirSync, openSync, closeSync, ftruncateSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { FuzzCase, FuzzExpect } from '../case.js';
import { damages } from '../random.js';

const ACCEPTED: FuzzExpect = { accepted: true };
const refused = (r: RegExp): FuzzExpect => ({ refused: r });

/** 8-byte length + header text (as given, not re-serialised) + data. */
export function safetensorsBytes(header: string | Uint8Array, data: Uint8Array = new Uint8Array(0)): Buffer {
  const head = typeof header === 'string' ? Buffer.from(header, 'utf8') : Buffer.from(header);
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(head.length));
  return Buffer.concat([length, head, data]);
}

/** A valid file of the given tensors (float32 values, or raw bytes for other dtypes). */
function validFile(tensors: Record<string, { dtype: string; shape: number[]; bytes: Uint8Array }>, metadata?: Record<string, string>): Buffer {
  const parts: string[] = metadata ? [`"__metadata__":${JSON.stringify(metadata)}`] : [];
  const data: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    parts.push(`${JSON.stringify(name)}:{"dtype":"${t.dtype}","shape":[${t.shape.join(',')}],"data_offsets":[${offset},${offset + t.bytes.length}]}`);
    data.push(t.bytes);
    offset += t.bytes.length;
  }
  return safetensorsBytes(`{${parts.join(',')}}`, Buffer.concat(data));
}

const f32 = (values: number[]): Uint8Array => new Uint8Array(new Float32Array(values).buffer);
const BASE = (): Buffer => validFile({ a: { dtype: 'F32', shape: [2, 2], bytes: f32([1, 2, 3, 4]) }, b: { dtype: 'I64', shape: [2], bytes: new Uint8Array(16) } }, { format: 'pt' });

function stCase(id: string, expect: FuzzExpect, bytes: () => Uint8Array, options?: Record<string, unknown>): FuzzCase {
  return {
    id: `safetensors/${id}`,
    cls: 'safetensors',
    expect,
    make(dir) {
      const path = join(dir, 'model.safetensors');
      writeFileSync(path, bytes());
      return { kind: 'lib', target: 'safetensors', path, ...(options ? { options } : {}) };
    },
  };
}

/** A header of `count` zero-size tensors (they need no data), written without building one big string twice. */
function manyTensorsHeader(count: number): Buffer {
  const parts: string[] = [];
  for (let i = 0; i < count; i++) parts.push(`"t${i}":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}`);
  return safetensorsBytes(`{${parts.join(',')}}`);
}

/** A header of about `bytes` bytes: one tensor and a metadata map of many short entries. */
function bigMetadataHeader(bytes: number): Buffer {
  const parts: string[] = [];
  let size = 0;
  for (let i = 0; size < bytes - 200; i++) {
    const entry = `"k${i}":"${'v'.repeat(1000)}"`;
    parts.push(entry);
    size += entry.length + 1;
  }
  return safetensorsBytes(`{"__metadata__":{${parts.join(',')}},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, f32([1]));
}

const header = (json: string, data?: Uint8Array): (() => Buffer) => () => safetensorsBytes(json, data);

const CASES: FuzzCase[] = [
  stCase('baseline', ACCEPTED, BASE),
  stCase('all-dtypes', ACCEPTED, () =>
    validFile({
      f32: { dtype: 'F32', shape: [2], bytes: f32([1, 2]) },
      f16: { dtype: 'F16', shape: [2], bytes: new Uint8Array(4) },
      bf16: { dtype: 'BF16', shape: [2], bytes: new Uint8Array(4) },
      i64: { dtype: 'I64', shape: [1], bytes: new Uint8Array(8) },
      i32: { dtype: 'I32', shape: [1], bytes: new Uint8Array(4) },
      u8: { dtype: 'U8', shape: [3], bytes: new Uint8Array(3) },
    })),
  stCase('u8-900KB', ACCEPTED, () => validFile({ u8: { dtype: 'U8', shape: [900, 1000], bytes: new Uint8Array(900_000).fill(200) } })),
  stCase('u8-over-caller-budget', refused(/over the .*byte budget|maxBytes/), () => validFile({ u8: { dtype: 'U8', shape: [900, 1000], bytes: new Uint8Array(900_000) } }), { maxBytes: 1_000_000 }),
  stCase('elements-over-caller-limit', refused(/tensor 'a': 4 elements, over the limit maxElements=3/), BASE, { maxElements: 3 }),
  stCase('empty-file', refused(/too short for the 8-byte header length/), () => new Uint8Array(0)),
  stCase('seven-bytes', refused(/too short for the 8-byte header length/), () => new Uint8Array(7)),
  stCase('header-length-zero', refused(/header length is 0/), () => Buffer.alloc(8)),
  stCase('header-length-u64-max', refused(/header length 18446744073709551615 exceeds the limit/), () => Buffer.from([255, 255, 255, 255, 255, 255, 255, 255])),
  stCase('header-length-past-end', refused(/exceeds the file size/), () => Buffer.concat([Buffer.from([0, 1, 0, 0, 0, 0, 0, 0]), Buffer.from('{}')])),
  stCase('header-not-json', refused(/header is not valid JSON/), header('{"a":')),
  stCase('header-array', refused(/header JSON must be an object, got an array/), header('[]')),
  stCase('header-string', refused(/header JSON must be an object/), header('"x"')),
  stCase('header-null', refused(/header JSON must be an object, got null/), header('null')),
  stCase('header-invalid-utf8', refused(/header is not valid UTF-8/), () => safetensorsBytes(Buffer.from([0x7b, 0x22, 0xc3, 0x28, 0x22, 0x3a, 0x31, 0x7d]))),
  stCase('header-bom', refused(/header is not valid JSON/), () => safetensorsBytes(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{}')]))),
  stCase('empty-header-object', ACCEPTED, header('{}')),
  stCase('duplicate-top-key', refused(/duplicate key 'a' in header/), header('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', f32([1]))),
  stCase('duplicate-escaped-key', refused(/duplicate key 'a' in header/), header('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"\\u0061":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', f32([1]))),
  stCase('duplicate-inner-key', refused(/duplicate key 'dtype' inside 'a'/), header('{"a":{"dtype":"F32","dtype":"I32","shape":[1],"data_offsets":[0,4]}}', f32([1]))),
  stCase('duplicate-metadata-key', refused(/duplicate key 'x' inside '__metadata__'/), header('{"__metadata__":{"x":"1","x":"2"}}')),
  stCase('missing-dtype', refused(/tensor 'a': missing dtype/), header('{"a":{"shape":[1],"data_offsets":[0,4]}}', f32([1]))),
  ...['F64', 'C64', 'toString', 'constructor', '__proto__', 'f32', ''].map((dtype) =>
    stCase(`dtype-${dtype || 'empty'}`, refused(/tensor 'a': unsupported dtype/), header(`{"a":{"dtype":"${dtype}","shape":[1],"data_offsets":[0,4]}}`, f32([1])))),
  stCase('tensor-named-__proto__', ACCEPTED, header('{"__proto__":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', f32([1]))),
  stCase('tensor-named-constructor', ACCEPTED, header('{"constructor":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', f32([1]))),
  stCase('shape-negative', refused(/shape must be an array of non-negative safe integers/), header('{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}', f32([1]))),
  stCase('shape-float', refused(/shape must be an array of non-negative safe integers/), header('{"a":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}', f32([1]))),
  stCase('shape-string', refused(/shape must be an array/), header('{"a":{"dtype":"F32","shape":"1","data_offsets":[0,4]}}', f32([1]))),
  stCase('shape-unsafe', refused(/shape must be an array of non-negative safe integers/), header('{"a":{"dtype":"F32","shape":[9007199254740993],"data_offsets":[0,4]}}', f32([1]))),
  stCase('shape-product-overflow', refused(/does not match shape \[1099511627776, 1099511627776\]/), header('{"a":{"dtype":"F32","shape":[1099511627776,1099511627776],"data_offsets":[0,4]}}', f32([1]))),
  stCase('shape-1000-dims', refused(/an array in the header has more than 64 items/), header(`{"a":{"dtype":"F32","shape":[${new Array(1000).fill(2).join(',')}],"data_offsets":[0,4]}}`, f32([1]))),
  stCase('offsets-reversed', refused(/data_offsets begin 4 > end 0/), header('{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}}', f32([1]))),
  stCase('offsets-three', refused(/data_offsets must be \[begin, end\]/), header('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4,8]}}', f32([1]))),
  stCase('offsets-out-of-range', refused(/out of range of the 4-byte data section/), header('{"a":{"dtype":"F32","shape":[1],"data_offsets":[1000000,1000004]}}', f32([1]))),
  stCase('overlap', refused(/overlap/), header('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', f32([1]))),
  stCase('gap', refused(/gap of 4 bytes/), header('{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', f32([1, 2]))),
  stCase('trailing-bytes', refused(/4 trailing bytes/), header('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', f32([1, 2]))),
  stCase('metadata-not-strings', refused(/__metadata__ must map strings to strings, but 'n' is number/), header('{"__metadata__":{"n":1}}')),
  stCase('metadata-deep-array', refused(/an array in the header holds another array/), header(`{"__metadata__":${'['.repeat(100_000)}${']'.repeat(100_000)}}`)),
  stCase('entry-deep-nesting', refused(/an array in the header holds another array/), header(`{"a":${'['.repeat(200_000)}${']'.repeat(200_000)}}`)),
  stCase('metadata-array', refused(/__metadata__ must be an object mapping strings to strings, got an array/), header('{"__metadata__":[1,2]}')),
  stCase('entry-nested-object', refused(/the header nests objects deeper than a safetensors header can/), header('{"a":{"dtype":{"x":1},"shape":[1],"data_offsets":[0,4]}}', f32([1]))),
  stCase('array-of-objects', refused(/the header nests objects deeper/), header('{"a":{"dtype":"F32","shape":[{}],"data_offsets":[0,4]}}', f32([1]))),
  stCase('tensors-400k', refused(/the header has more than 200000 entries \(tensors and metadata keys; maxObjects\)/), () => manyTensorsHeader(400_000)),
  stCase('tensors-150k', ACCEPTED, () => manyTensorsHeader(150_000)),
  stCase('tensors-over-caller-limit', refused(/more than 1000 entries|over the limit maxObjects=1000/), () => manyTensorsHeader(1001), { maxObjects: 1000 }),
  stCase('header-99MB', ACCEPTED, () => bigMetadataHeader(99_000_000)),
  {
    id: 'safetensors/header-over-100MB-sparse',
    cls: 'safetensors',
    expect: refused(/header length 100000001 exceeds the limit of 100000000 bytes/),
    make(dir) {
      // A sparse 120 MB file: the declared length is refused before a byte of the header is read.
      const path = join(dir, 'model.safetensors');
      const fd = openSync(path, 'w');
      const length = Buffer.alloc(8);
      length.writeBigUInt64LE(100_000_001n);
      writeSync(fd, length);
      ftruncateSync(fd, 120_000_000);
      closeSync(fd);
      return { kind: 'lib', target: 'safetensors', path };
    },
  },
  {
    id: 'safetensors/path-is-a-folder',
    cls: 'safetensors',
    expect: refused(/is a folder, not a file/),
    make(dir) {
      const path = join(dir, 'model.safetensors');
      mkdirSync(path);
      return { kind: 'lib', target: 'safetensors', path };
    },
  },
  {
    id: 'safetensors/missing-file',
    cls: 'safetensors',
    expect: refused(/no such file/),
    make: (dir) => ({ kind: 'lib', target: 'safetensors', path: join(dir, 'nothing.safetensors') }),
  },
];

function mutations(): FuzzCase[] {
  return damages(4747, BASE().length, 5, 10).map((d) => stCase(d.id, { refusedOrAccepted: true }, () => d.apply(BASE())));
}

export function safetensorsCases(): FuzzCase[] {
  return [...CASES, ...mutations()];
}
