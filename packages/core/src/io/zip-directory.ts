import { MigeInputError } from '../errors.js';
import type { ByteSource } from './byte-source.js';

/** One file of a zip archive, as its central directory describes it. */
export interface ZipEntry {
  name: string;
  /** 0 = stored, 8 = deflated; others cannot be read. */
  method: number;
  flags: number;
  crc32: number;
  compressedSize: number;
  uncompressedSize: number;
  localHeaderOffset: number;
}

const EOCD_SIGNATURE = 0x06054b50;
const ZIP64_LOCATOR_SIGNATURE = 0x07064b50;
const ZIP64_EOCD_SIGNATURE = 0x06064b50;
const CENTRAL_SIGNATURE = 0x02014b50;
const EOCD_SIZE = 22;
const MAX_COMMENT = 0xffff;
/** A central directory needs ~100 bytes per entry; this bound stops absurd declared sizes. */
const MAX_DIRECTORY_BYTES = 512 * 1024 * 1024;

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function u64(dv: DataView, at: number, what: string, where: string): number {
  const value = dv.getBigUint64(at, true);
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new MigeInputError(`zip ${what} ${value} is too large`, where);
  return Number(value);
}

interface Directory {
  entryCount: number;
  offset: number;
  size: number;
}

function findEocd(source: ByteSource): { eocd: DataView; position: number } {
  const tailLength = Math.min(source.size, EOCD_SIZE + MAX_COMMENT);
  if (tailLength < EOCD_SIZE) throw new MigeInputError(`not a zip archive: only ${source.size} bytes`, source.where);
  const tailStart = source.size - tailLength;
  const tail = source.read(tailStart, tailLength);
  const dv = view(tail);
  for (let i = tailLength - EOCD_SIZE; i >= 0; i--) {
    if (dv.getUint32(i, true) === EOCD_SIGNATURE && i + EOCD_SIZE + dv.getUint16(i + 20, true) <= tailLength) {
      return { eocd: new DataView(tail.buffer, tail.byteOffset + i, EOCD_SIZE), position: tailStart + i };
    }
  }
  throw new MigeInputError('not a zip archive: no end-of-central-directory record', source.where);
}

/** ZIP64 archives (over 4 GiB or 65535 entries) keep the real counts in a second record. */
function readZip64(source: ByteSource, eocdPosition: number): Directory | undefined {
  if (eocdPosition < 20) return undefined;
  const locator = view(source.read(eocdPosition - 20, 20));
  if (locator.getUint32(0, true) !== ZIP64_LOCATOR_SIGNATURE) return undefined;
  const recordOffset = u64(locator, 8, 'ZIP64 record offset', source.where);
  if (recordOffset + 56 > eocdPosition - 20) {
    throw new MigeInputError(`ZIP64 end record offset ${recordOffset} is out of range`, source.where);
  }
  const record = view(source.read(recordOffset, 56));
  if (record.getUint32(0, true) !== ZIP64_EOCD_SIGNATURE) {
    throw new MigeInputError(`no ZIP64 end record at offset ${recordOffset}`, source.where);
  }
  if (record.getUint32(16, true) !== 0 || record.getUint32(20, true) !== 0) {
    throw new MigeInputError('multi-disk zip archives are not supported', source.where);
  }
  return {
    entryCount: u64(record, 32, 'entry count', source.where),
    size: u64(record, 40, 'central directory size', source.where),
    offset: u64(record, 48, 'central directory offset', source.where),
  };
}

function locateDirectory(source: ByteSource): Directory & { end: number } {
  const { eocd, position } = findEocd(source);
  if (eocd.getUint16(4, true) !== 0 || eocd.getUint16(6, true) !== 0) {
    throw new MigeInputError('multi-disk zip archives are not supported', source.where);
  }
  const directory = readZip64(source, position) ?? {
    entryCount: eocd.getUint16(10, true),
    size: eocd.getUint32(12, true),
    offset: eocd.getUint32(16, true),
  };
  const end = position;
  if (directory.size > MAX_DIRECTORY_BYTES || directory.offset + directory.size > end) {
    throw new MigeInputError(
      `central directory (${directory.size} bytes at offset ${directory.offset}) is out of range of the ${source.size}-byte file`,
      source.where,
    );
  }
  return { ...directory, end };
}

/** Replaces 0xFFFFFFFF fields with their values from the ZIP64 extra field (id 1). */
function applyZip64Extra(entry: ZipEntry, extra: DataView, where: string): void {
  let at = 0;
  while (at + 4 <= extra.byteLength) {
    const id = extra.getUint16(at, true);
    const size = extra.getUint16(at + 2, true);
    if (at + 4 + size > extra.byteLength) break;
    if (id === 1) {
      let field = at + 4;
      const next = (what: string): number => {
        if (field + 8 > at + 4 + size)
          throw new MigeInputError(`entry '${entry.name}': ZIP64 extra field lacks the ${what}`, where);
        const value = u64(extra, field, what, where);
        field += 8;
        return value;
      };
      if (entry.uncompressedSize === 0xffffffff) entry.uncompressedSize = next('uncompressed size');
      if (entry.compressedSize === 0xffffffff) entry.compressedSize = next('compressed size');
      if (entry.localHeaderOffset === 0xffffffff) entry.localHeaderOffset = next('local header offset');
      return;
    }
    at += 4 + size;
  }
}

/** Parses the central directory; reads only the archive's tail, not its entries. */
export function readZipDirectory(source: ByteSource): ZipEntry[] {
  const dir = locateDirectory(source);
  const bytes = source.read(dir.offset, dir.size);
  const dv = view(bytes);
  const decoder = new TextDecoder();
  const entries: ZipEntry[] = [];
  let at = 0;
  for (let i = 0; i < dir.entryCount; i++) {
    if (at + 46 > bytes.length || dv.getUint32(at, true) !== CENTRAL_SIGNATURE) {
      throw new MigeInputError(`central directory entry ${i} is truncated or corrupt`, source.where);
    }
    const nameLength = dv.getUint16(at + 28, true);
    const extraLength = dv.getUint16(at + 30, true);
    const commentLength = dv.getUint16(at + 32, true);
    const next = at + 46 + nameLength + extraLength + commentLength;
    if (next > bytes.length) throw new MigeInputError(`central directory entry ${i} is truncated`, source.where);
    const entry: ZipEntry = {
      name: decoder.decode(bytes.subarray(at + 46, at + 46 + nameLength)),
      flags: dv.getUint16(at + 8, true),
      method: dv.getUint16(at + 10, true),
      crc32: dv.getUint32(at + 16, true),
      compressedSize: dv.getUint32(at + 20, true),
      uncompressedSize: dv.getUint32(at + 24, true),
      localHeaderOffset: dv.getUint32(at + 42, true),
    };
    applyZip64Extra(
      entry,
      new DataView(bytes.buffer, bytes.byteOffset + at + 46 + nameLength, extraLength),
      source.where,
    );
    if (entry.localHeaderOffset + 30 + entry.compressedSize > dir.offset) {
      throw new MigeInputError(
        `entry '${entry.name}' (${entry.compressedSize} bytes at offset ${entry.localHeaderOffset}) lies outside the archive data`,
        source.where,
      );
    }
    entries.push(entry);
    at = next;
  }
  return entries;
}
