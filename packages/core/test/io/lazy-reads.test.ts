import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FileByteSource } from '../../src/io/byte-source.js';
import { PthReader } from '../../src/io/pth.js';
import { SafetensorsReader } from '../../src/io/safetensors.js';
import { ZipReader } from '../../src/io/zip.js';
import { pthPath } from './helpers/expected-pth.js';
import { FIXTURES_DIR } from './helpers/paths.js';

afterEach(() => vi.restoreAllMocks());

describe('readers fetch only what is asked for', () => {
  it('safetensors: open reads the 8-byte prefix and the header; read(name) reads just that tensor', () => {
    const file = path.join(FIXTURES_DIR, 'dit/weights.safetensors');
    const headerLength = Number(fs.readFileSync(file).readBigUInt64LE(0));
    const reads = vi.spyOn(FileByteSource.prototype, 'read');
    const reader = SafetensorsReader.open(file);
    expect(reads.mock.calls).toEqual([
      [0, 8],
      [8, headerLength],
    ]);
    reads.mockClear();
    const name = reader.keys()[3] as string;
    const info = reader.info(name);
    reader.read(name);
    expect(reads.mock.calls).toEqual([[info.byteOffset, info.byteLength]]);
    reader.close();
  });

  it('pth: open reads data.pkl but no storage; read(name) reads only the span of its view', () => {
    const ranges = vi.spyOn(ZipReader.prototype, 'readRange');
    const reader = PthReader.open(pthPath('plain.pth'));
    expect(ranges.mock.calls.map((c) => c[0])).toEqual(['plain/data.pkl']);
    ranges.mockClear();
    const info = reader.info('row_of_weight'); // weight[1]: 4 floats at element offset 4
    expect(info.storageOffset).toBe(4);
    reader.read('row_of_weight');
    expect(ranges.mock.calls).toEqual([[`plain/data/${info.storageKey}`, 16, 16]]);
    ranges.mockClear();
    reader.read('sliced'); // grid[1:3, ::2]: elements 6..16 of a 24-element storage
    expect(ranges.mock.calls).toEqual([[`plain/data/${reader.info('sliced').storageKey}`, 24, 44]]);
    reader.close();
  });
});
