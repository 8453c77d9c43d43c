import * as zlib from 'node:zlib';
import { MigeInputError } from '../errors.js';
import { BufferByteSource, FileByteSource, type ByteSource } from './byte-source.js';
import { byteBudget, type ByteBudget } from './load-limits.js';
import { readZipDirectory, type ZipEntry } from './zip-directory.js';

export type { ZipEntry } from './zip-directory.js';

const LOCAL_SIGNATURE = 0x04034b50;
const STORED = 0;
const DEFLATED = 8;

export interface ZipReadOptions {
  /**
   * Most bytes inflated over the reader's life; each deflated entry is inflated once and kept.
   * Default: DEFAULT_EXPANSION_RATIO × the archive's size + 64 MiB, so a deflate bomb (zeros
   * compress ~1000×) is refused from its declared size before anything is inflated.
   */
  maxBytes?: number;
}

/**
 * Minimal read-only zip archive (what torch.save writes): central directory, ZIP64, stored and
 * deflated entries. Entries are read on demand; stored ones support partial reads, so a slice of
 * a multi-GB entry costs only that slice.
 */
export class ZipReader {
  private readonly byName = new Map<string, ZipEntry>();
  private readonly dataStarts = new Map<ZipEntry, number>();
  /** Inflated deflated entries: several tensors may view one storage, which is inflated once. */
  private readonly inflated = new Map<ZipEntry, Uint8Array>();
  private readonly inflateBudget: ByteBudget;

  private constructor(
    private readonly source: ByteSource,
    options: ZipReadOptions,
  ) {
    this.inflateBudget = byteBudget(options, source.size, source.where);
    for (const entry of readZipDirectory(source)) {
      if (this.byName.has(entry.name)) throw new MigeInputError(`duplicate zip entry '${entry.name}'`, source.where);
      this.byName.set(entry.name, entry);
    }
  }

  static open(path: string, options: ZipReadOptions = {}): ZipReader {
    return ZipReader.fromSource(FileByteSource.open(path), options);
  }

  static fromBuffer(bytes: Uint8Array, where = '<buffer>', options: ZipReadOptions = {}): ZipReader {
    return ZipReader.fromSource(new BufferByteSource(bytes, where), options);
  }

  /** Takes ownership of `source`: it is closed on failure and by close(). */
  static fromSource(source: ByteSource, options: ZipReadOptions = {}): ZipReader {
    try {
      return new ZipReader(source, options);
    } catch (error) {
      source.close();
      throw error;
    }
  }

  /** The archive's size in bytes. */
  get size(): number {
    return this.source.size;
  }

  get where(): string {
    return this.source.where;
  }

  names(): string[] {
    return [...this.byName.keys()];
  }

  entry(name: string): ZipEntry | undefined {
    return this.byName.get(name);
  }

  /** The whole uncompressed entry. */
  read(name: string): Uint8Array {
    const entry = this.require(name);
    return this.readRange(name, 0, entry.uncompressedSize);
  }

  /**
   * `length` uncompressed bytes at `offset` within the entry. Stored entries read just that
   * range; deflated ones inflate the whole entry on first use (within the reader's byte budget)
   * and keep it. A full read verifies the CRC.
   */
  readRange(name: string, offset: number, length: number): Uint8Array {
    const entry = this.require(name);
    const where = `${this.source.where}:${name}`;
    if (offset < 0 || length < 0 || offset + length > entry.uncompressedSize) {
      throw new MigeInputError(
        `read of ${length} bytes at ${offset} is outside the ${entry.uncompressedSize}-byte entry`,
        where,
      );
    }
    if (entry.flags & 1) throw new MigeInputError('encrypted zip entries are not supported', where);
    const start = this.dataStart(entry, where);
    let bytes: Uint8Array;
    if (entry.method === STORED) {
      if (entry.compressedSize !== entry.uncompressedSize) {
        throw new MigeInputError(
          `stored entry sizes disagree (${entry.compressedSize} vs ${entry.uncompressedSize})`,
          where,
        );
      }
      bytes = this.source.read(start + offset, length);
    } else if (entry.method === DEFLATED) {
      // A copy: the caller owns what it gets, the inflated entry stays cached for the next read.
      bytes = this.inflate(entry, start, where).slice(offset, offset + length);
    } else {
      throw new MigeInputError(`unsupported zip compression method ${entry.method}`, where);
    }
    // crc32 0 means "not computed" for writers that skip it (torch can be told to).
    if (length === entry.uncompressedSize && entry.crc32 !== 0 && zlib.crc32(bytes) >>> 0 !== entry.crc32) {
      throw new MigeInputError('CRC-32 mismatch: the entry is corrupt', where);
    }
    return bytes;
  }

  close(): void {
    this.source.close();
    this.inflated.clear();
  }

  private require(name: string): ZipEntry {
    const entry = this.byName.get(name);
    if (!entry) throw new MigeInputError(`no zip entry named '${name}'`, this.source.where);
    return entry;
  }

  /** Where the entry's data begins: after its local header, whose lengths may differ from the central one. */
  private dataStart(entry: ZipEntry, where: string): number {
    const cached = this.dataStarts.get(entry);
    if (cached !== undefined) return cached;
    if (entry.localHeaderOffset + 30 > this.source.size)
      throw new MigeInputError('local header is out of range', where);
    const header = this.source.read(entry.localHeaderOffset, 30);
    const dv = new DataView(header.buffer, header.byteOffset, 30);
    if (dv.getUint32(0, true) !== LOCAL_SIGNATURE) {
      throw new MigeInputError(`no local file header at offset ${entry.localHeaderOffset}`, where);
    }
    const start = entry.localHeaderOffset + 30 + dv.getUint16(26, true) + dv.getUint16(28, true);
    if (start + entry.compressedSize > this.source.size) {
      throw new MigeInputError(
        `entry data (${entry.compressedSize} bytes at offset ${start}) runs past the end of the file`,
        where,
      );
    }
    this.dataStarts.set(entry, start);
    return start;
  }

  private inflate(entry: ZipEntry, start: number, where: string): Uint8Array {
    if (entry.uncompressedSize === 0) return new Uint8Array(0);
    const cached = this.inflated.get(entry);
    if (cached) return cached;
    // Charged from the declared size, before inflating; maxOutputLength holds the stream to it.
    this.inflateBudget.charge(entry.uncompressedSize, `inflating zip entry '${entry.name}'`);
    const compressed = this.source.read(start, entry.compressedSize);
    let out: Buffer;
    try {
      // The declared size caps the output, so a zip bomb cannot inflate past it.
      out = zlib.inflateRawSync(compressed, { maxOutputLength: entry.uncompressedSize });
    } catch (error) {
      throw new MigeInputError(`cannot inflate entry: ${(error as Error).message}`, where);
    }
    if (out.length !== entry.uncompressedSize) {
      throw new MigeInputError(`inflated to ${out.length} bytes, expected ${entry.uncompressedSize}`, where);
    }
    this.inflated.set(entry, out);
    return out;
  }
}
