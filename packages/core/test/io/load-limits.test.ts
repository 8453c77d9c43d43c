import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { lazyTempDir } from '../../src/testing/index.js';
import { unpickle } from '../../src/io/pickle.js';
import { PthReader, readPthStateDict } from '../../src/io/pth.js';
import { parseSafetensors, readSafetensors, SafetensorsReader } from '../../src/io/safetensors-reader.js';
import { serializeSafetensors } from '../../src/io/safetensors-writer.js';
import { DEFAULT_BUDGET_FLOOR_BYTES, DEFAULT_EXPANSION_RATIO, defaultMaxBytes } from '../../src/io/load-limits.js';
import { buildZip, checkpointZip, pickleBytes, str, tensorPickle } from './helpers/zip-builder.js';

const tmp = lazyTempDir('io-limits');
afterAll(tmp.remove);
let counter = 0;
function file(bytes: Uint8Array, ext = 'pth'): string {
  const p = path.join(tmp.get(), `f${counter++}.${ext}`);
  fs.writeFileSync(p, bytes);
  return p;
}

const env = { globals: new Map() };
const stateDict = (...entries: Uint8Array[]): Uint8Array => pickleBytes([0x80, 2], '}(', ...entries, 'u.');

describe('pickle: what a pickle may make', () => {
  it('counts values, marks and memo entries against maxObjects', () => {
    const dicts = pickleBytes([0x80, 2], ']', '(', ...Array.from({ length: 600 }, () => '}'), 'e.');
    expect(() => unpickle(dicts, { ...env, maxObjects: 500 }, 'x.pkl')).toThrow(/^x.pkl: the pickle makes more than 500 objects \(values, marks and memo entries; maxObjects\)/);
    expect(() => unpickle(dicts, { ...env, maxObjects: 700 }, 'x.pkl')).not.toThrow();
    const marks = pickleBytes([0x80, 2], ...Array.from({ length: 600 }, () => '('), '}.');
    expect(() => unpickle(marks, { ...env, maxObjects: 500 }, 'x.pkl')).toThrow(/more than 500 objects/);
    const memo = pickleBytes([0x80, 4], '}', ...Array.from({ length: 600 }, () => [0x94]), '.');
    expect(() => unpickle(memo, { ...env, maxObjects: 500 }, 'x.pkl')).toThrow(/more than 500 objects/);
    expect(() => unpickle(dicts, { ...env, maxObjects: 0 }, 'x.pkl')).toThrow('x.pkl: limit maxObjects must be a positive integer, got 0');
  });

  it('decodes long integers of any length exactly (LONG1 and LONG4, both signs)', () => {
    const long = (bytes: number[]): bigint | number => {
      const op = bytes.length < 256 ? [0x8a, bytes.length] : [0x8b, ...new Uint8Array(new Int32Array([bytes.length]).buffer)];
      return unpickle(pickleBytes(op, bytes, '.'), env, 'x.pkl') as bigint | number;
    };
    expect(long([0xff, 0xff, 0xff, 0xff, 0xff, 0x7f])).toBe(2 ** 47 - 1);
    expect(long([0, 0, 0, 0, 0, 0x80])).toBe(-(2 ** 47));
    // 2^53 + 1: past the safe integers, so a bigint.
    expect(long([1, 0, 0, 0, 0, 0, 0x20])).toBe(9007199254740993n);
    const big = Array.from({ length: 300 }, (_, i) => (i * 37 + 11) & 0xff);
    const expected = big.reduceRight((acc, b) => (acc << 8n) | BigInt(b), 0n);
    expect(long(big)).toBe(expected);
    const negative = [...big.slice(0, 299), 0xf0];
    const unsigned = negative.reduceRight((acc, b) => (acc << 8n) | BigInt(b), 0n);
    expect(long(negative)).toBe(unsigned - (1n << 2400n));
    expect(() => unpickle(pickleBytes([0x8b, 0xfb, 0xff, 0xff, 0xff], '.'), env, 'x.pkl')).toThrow(/invalid length -5/);
  });
});

describe('pth: structure and memory', () => {
  it('refuses a root that is not a dict, naming what it is', () => {
    for (const [body, kind] of [['K\x07', 'int'], ['N', 'None'], [']', 'list'], [')', 'tuple']] as const) {
      expect(() => PthReader.open(file(checkpointZip(pickleBytes([0x80, 2], body, '.'))))).toThrow(`the checkpoint's root is a ${kind}, not a dict`);
    }
  });

  it('refuses nesting deeper than 256 levels without overflowing the stack', () => {
    const deep = checkpointZip(pickleBytes([0x80, 2], '}', str('x'), ']'.repeat(100_000), 'a'.repeat(99_999), 's.'));
    expect(() => PthReader.open(file(deep))).toThrow(/the checkpoint is nested more than 256 levels deep: not a state dict/);
    const ok = checkpointZip(pickleBytes([0x80, 2], '}', str('x'), ']'.repeat(200), 'a'.repeat(199), 's.'));
    expect(PthReader.open(file(ok)).tree()).toBeDefined();
  });

  it('lets a view repeat its storage up to 4 Mi elements, or to maxElements when given', () => {
    const expanded = file(checkpointZip(stateDict(str('w'), tensorPickle('0', 1, 0, [200, 250, 20], [0, 0, 0])), { 0: [3] }));
    expect(readPthStateDict(expanded).get('w')?.data.length).toBe(1_000_000);
    const huge = file(checkpointZip(stateDict(str('w'), tensorPickle('0', 1, 0, [255, 255, 100], [0, 0, 0])), { 0: [3] }));
    expect(() => PthReader.open(huge)).toThrow(/has 6502500 elements but its storage only 1: a view that repeats its storage \(zero or overlapping strides\) may have at most 4194304 elements unless maxElements allows more/);
    expect(() => PthReader.open(huge, { maxElements: 5_000_000 })).toThrow(/has 6502500 elements, over the limit maxElements=5000000/);
    expect(PthReader.open(huge, { maxElements: 6_502_500, maxBytes: 30_000_000 }).read('w').data.length).toBe(6_502_500);
  });

  it('keeps one read and a whole-file read within maxBytes (default: 8 x the file + 64 MiB)', () => {
    const p = file(checkpointZip(stateDict(str('a'), tensorPickle('0', 4, 0, [4], [1]), str('b'), tensorPickle('0', 4, 0, [4], [1])), { 0: [1, 2, 3, 4] }));
    expect(defaultMaxBytes(1000)).toBe(DEFAULT_EXPANSION_RATIO * 1000 + DEFAULT_BUDGET_FLOOR_BYTES);
    expect([...readPthStateDict(p).keys()]).toEqual(['a', 'b']);
    // Each tensor decodes to 16 bytes: 24 holds one read but not both.
    expect(() => readPthStateDict(p, { maxBytes: 24 })).toThrow(/tensor 'b' needs 16 bytes, over the 24-byte budget of this load \(maxBytes=24; 16 already used\)/);
    expect(() => PthReader.open(p, { maxBytes: 8 }).read('a')).toThrow(/tensor 'a' decodes to 16 bytes, over the 8-byte limit of one read \(maxBytes\)/);
  });

  it('inflates a deflated storage once, within the budget, however many tensors view it', () => {
    const values = new Uint8Array(new Float32Array(1000).fill(2).buffer);
    const views = Array.from({ length: 50 }, (_, i) => [str(`t${i}`), tensorPickle('0', 250, 0, [250], [1])]).flat();
    const zip = buildZip({ 'archive/data.pkl': stateDict(...views), 'archive/data/0': { data: values, deflate: true }, 'archive/version': '3\n' });
    const p = file(zip);
    // 50 reads of one 4000-byte entry: one inflation (plus data.pkl's) fits a 10,000-byte inflate budget.
    const reader = PthReader.open(p, { maxBytes: 10_000 });
    expect(reader.keys().map((k) => reader.read(k).data[0])).toEqual(new Array(50).fill(2));
    reader.close();
    expect(() => PthReader.open(p, { maxBytes: 3_000 }).read('t0')).toThrow(/inflating zip entry 'archive\/data\/0' needs 4000 bytes, over the 3000-byte budget/);
  });
});

describe('safetensors: header and memory', () => {
  const header = (json: string, data = new Uint8Array(0)): Uint8Array => {
    const head = Buffer.from(json);
    const length = Buffer.alloc(8);
    length.writeBigUInt64LE(BigInt(head.length));
    return Buffer.concat([length, head, data]);
  };

  it('finds a duplicate key by counting, then names it', () => {
    const bytes = header('{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"b":{"dtype":"U8","shape":[1],"data_offsets":[1,2],"shape":[1]}}', new Uint8Array(2));
    expect(() => parseSafetensors(bytes)).toThrow("<buffer>: duplicate key 'shape' inside 'b' in header");
  });

  it('refuses more entries than maxObjects, and nesting no header has, before parsing', () => {
    const many = `{${Array.from({ length: 20 }, (_, i) => `"t${i}":{"dtype":"U8","shape":[0],"data_offsets":[0,0]}`).join(',')}}`;
    expect(parseSafetensors(header(many)).tensors.size).toBe(20);
    expect(() => parseSafetensors(header(many), { maxObjects: 10 })).toThrow(/the header has more than 10 entries \(tensors and metadata keys; maxObjects\)/);
    expect(() => parseSafetensors(header('{"a":{"shape":[[1]]}}'))).toThrow(/an array in the header holds another array/);
    expect(() => parseSafetensors(header('{"a":{"dtype":{"b":{}}}}'))).toThrow(/the header nests objects deeper than a safetensors header can/);
    expect(() => parseSafetensors(header(`{"a":{"dtype":"U8","shape":[${new Array(65).fill(1).join(',')}],"data_offsets":[0,1]}}`, new Uint8Array(1)))).toThrow(/an array in the header has more than 64 items/);
  });

  it('caps one read and a whole-file read at maxBytes: U8 widens 4x to int32', () => {
    const p = file(serializeSafetensors({ u: { dtype: 'U8', shape: [100], data: new Uint8Array(100).fill(9) }, f: { dtype: 'F32', shape: [10], data: new Float32Array(10) } }), 'safetensors');
    expect(readSafetensors(p).get('u')?.data.length).toBe(100);
    expect(() => readSafetensors(p, { maxBytes: 420 })).toThrow(/tensor 'u' needs 400 bytes, over the 420-byte budget of this load \(maxBytes=420; 40 already used\)/);
    expect(() => SafetensorsReader.open(p, { maxBytes: 399 }).read('u')).toThrow(/tensor 'u' decodes to 400 bytes, over the 399-byte limit of one read \(maxBytes\)/);
    expect(() => SafetensorsReader.open(p, { maxElements: 50 })).toThrow(/tensor 'u': 100 elements, over the limit maxElements=50/);
  });

  it('says a path that is a folder or missing is one, in one line', () => {
    expect(() => SafetensorsReader.open(tmp.get())).toThrow(`${tmp.get()}: is a folder, not a file`);
    expect(() => SafetensorsReader.open(path.join(tmp.get(), 'none'))).toThrow(`${path.join(tmp.get(), 'none')}: cannot open: no such file or folder`);
  });
});
