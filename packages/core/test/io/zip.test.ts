import * as fs from 'node:fs';
import * as zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ZipReader } from '../../src/io/zip.js';
import { pthPath } from './helpers/expected-pth.js';
import { buildZip } from './helpers/zip-builder.js';

const plainBytes = new Uint8Array(fs.readFileSync(pthPath('plain.pth')));

function entryNames(reader: ZipReader): string[] {
  return reader.names().slice().sort();
}

describe('ZipReader', () => {
  it('reads the same entries from stored, deflated and ZIP64 archives (written by torch and Python zipfile)', () => {
    const stored = ZipReader.open(pthPath('plain.pth'));
    const deflated = ZipReader.open(pthPath('plain_deflated.pth'));
    const zip64 = ZipReader.open(pthPath('plain_zip64.pth'));
    expect(entryNames(stored)).toContain('plain/data.pkl');
    expect(entryNames(deflated)).toEqual(entryNames(stored));
    expect(entryNames(zip64)).toEqual(entryNames(stored));
    expect(deflated.entry('plain/data.pkl')?.method).toBe(8);
    for (const name of stored.names()) {
      const bytes = stored.read(name);
      expect(Buffer.from(deflated.read(name)).equals(bytes), name).toBe(true);
      expect(Buffer.from(zip64.read(name)).equals(bytes), name).toBe(true);
    }
    expect(new TextDecoder().decode(stored.read('plain/version'))).toBe('3\n');
    for (const r of [stored, deflated, zip64]) r.close();
  });

  it('reads a byte range of an entry without the rest', () => {
    const reader = ZipReader.fromBuffer(buildZip({ 'a.bin': new Uint8Array([0, 1, 2, 3, 4, 5, 6, 7]) }));
    expect(Array.from(reader.readRange('a.bin', 3, 4))).toEqual([3, 4, 5, 6]);
    expect(() => reader.readRange('a.bin', 6, 4)).toThrow(/read of 4 bytes at 6 is outside the 8-byte entry/);
    expect(() => reader.read('b.bin')).toThrow(/no zip entry named 'b.bin'/);
  });
});

/** Copies `bytes` and lets `edit` patch the copy. */
function patched(bytes: Uint8Array, edit: (b: Buffer) => void): Uint8Array {
  const copy = Buffer.from(bytes);
  edit(copy);
  return copy;
}

const small = buildZip({ 'x.txt': 'hello zip' });
const centralAt = (b: Buffer): number => b.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
const eocdAt = (b: Buffer): number => b.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));

/** Two entries whose central-directory names are both 'a'. */
function renamedSecondEntry(): Uint8Array {
  const zip = Buffer.from(buildZip({ a: '1', b: '2' }));
  zip.write('a', zip.indexOf(Buffer.from('b'), centralAt(zip) + 46), 'latin1');
  return zip;
}

describe('malformed zip archives', () => {
  const cases: [string, Uint8Array, RegExp][] = [
    ['too short', new Uint8Array(10), /not a zip archive: only 10 bytes/],
    ['no end record (truncated)', plainBytes.subarray(0, 4000), /no end-of-central-directory record/],
    [
      'central directory out of range',
      patched(small, (b) => b.writeUInt32LE(1 << 30, eocdAt(b) + 16)),
      /central directory \(\d+ bytes at offset 1073741824\) is out of range/,
    ],
    [
      'corrupt central entry',
      patched(small, (b) => b.writeUInt32LE(0xdeadbeef, centralAt(b))),
      /central directory entry 0 is truncated or corrupt/,
    ],
    [
      'entry outside the data',
      patched(small, (b) => b.writeUInt32LE(5000, centralAt(b) + 20)),
      /entry 'x.txt' \(5000 bytes at offset 0\) lies outside the archive data/,
    ],
    [
      'multi-disk',
      patched(small, (b) => b.writeUInt16LE(1, eocdAt(b) + 4)),
      /multi-disk zip archives are not supported/,
    ],
    ['duplicate names', renamedSecondEntry(), /duplicate zip entry 'a'/],
  ];
  for (const [name, bytes, message] of cases) {
    it(`rejects: ${name}`, () => {
      expect(() => ZipReader.fromBuffer(bytes, 'bad.zip')).toThrow(message);
    });
  }

  const entryCases: [string, Uint8Array, RegExp][] = [
    ['CRC mismatch', patched(small, (b) => b.write('J', 30 + 'x.txt'.length, 'latin1')), /x.txt: CRC-32 mismatch/],
    [
      'unsupported method',
      patched(small, (b) => b.writeUInt16LE(12, centralAt(b) + 10)),
      /unsupported zip compression method 12/,
    ],
    [
      'encrypted entry',
      patched(small, (b) => b.writeUInt16LE(1, centralAt(b) + 8)),
      /encrypted zip entries are not supported/,
    ],
    ['bad local header', patched(small, (b) => b.writeUInt32LE(0, 0)), /no local file header at offset 0/],
    [
      'stored sizes disagree',
      patched(small, (b) => b.writeUInt32LE(3, centralAt(b) + 24)),
      /stored entry sizes disagree/,
    ],
  ];
  for (const [name, bytes, message] of entryCases) {
    it(`rejects on read: ${name}`, () => {
      const reader = ZipReader.fromBuffer(bytes, 'bad.zip');
      expect(() => reader.read('x.txt')).toThrow(message);
    });
  }

  it('a deflate bomb cannot inflate past the declared size', () => {
    const payload = zlib.deflateRawSync(Buffer.alloc(1 << 20));
    const zip = Buffer.from(buildZip({ 'z.bin': payload }));
    const at = centralAt(zip);
    zip.writeUInt16LE(8, at + 10); // deflated
    zip.writeUInt32LE(1024, at + 24); // claims 1 KiB uncompressed
    zip.writeUInt32LE(0, at + 16); // no CRC
    expect(() => ZipReader.fromBuffer(zip).read('z.bin')).toThrow(/cannot inflate entry/);
  });
});
