import { constants } from 'node:buffer';
import * as fs from 'node:fs';
import { fileSystemError, MigeInputError } from '../errors.js';

/** Random access to the bytes of a file or an in-memory buffer. */
export interface ByteSource {
  readonly size: number;
  /** Where errors should say the bytes came from (a path, or a label for a buffer). */
  readonly where: string;
  /** Exactly `length` bytes at `offset`, in a fresh buffer that the caller owns. */
  read(offset: number, length: number): Uint8Array;
  close(): void;
}

/** fs.read rejects lengths of 2 GiB and more; larger reads go in pieces of this size. */
const MAX_READ_CHUNK = 1 << 30;

function checkRange(source: ByteSource, offset: number, length: number): void {
  if (
    !Number.isSafeInteger(offset) ||
    !Number.isSafeInteger(length) ||
    offset < 0 ||
    length < 0 ||
    offset + length > source.size
  ) {
    throw new MigeInputError(
      `read of ${length} bytes at offset ${offset} is outside the ${source.size}-byte file`,
      source.where,
    );
  }
}

export class FileByteSource implements ByteSource {
  private fd: number | undefined;
  readonly size: number;

  private constructor(
    fd: number,
    readonly where: string,
    size: number,
  ) {
    this.fd = fd;
    this.size = size;
  }

  /** Opens a regular file; a missing path, a folder or a device is a MigeInputError saying so. */
  static open(path: string): FileByteSource {
    let fd: number;
    try {
      fd = fs.openSync(path, 'r');
    } catch (error) {
      throw fileSystemError(error, path, 'open');
    }
    try {
      const stat = fs.fstatSync(fd);
      if (stat.isDirectory()) throw new MigeInputError('is a folder, not a file', path);
      if (!stat.isFile()) throw new MigeInputError('is not a regular file (a device, a pipe or a socket)', path);
      return new FileByteSource(fd, path, stat.size);
    } catch (error) {
      fs.closeSync(fd);
      throw fileSystemError(error, path, 'read');
    }
  }

  read(offset: number, length: number): Uint8Array {
    if (this.fd === undefined) throw new MigeInputError('file is closed', this.where);
    checkRange(this, offset, length);
    if (length > constants.MAX_LENGTH) {
      throw new MigeInputError(
        `cannot read ${length} bytes into one buffer (limit ${constants.MAX_LENGTH})`,
        this.where,
      );
    }
    const out = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      let n: number;
      try {
        n = fs.readSync(this.fd, out, done, Math.min(length - done, MAX_READ_CHUNK), offset + done);
      } catch (error) {
        throw fileSystemError(error, this.where, 'read');
      }
      if (n === 0) throw new MigeInputError(`file ended early: wanted ${length} bytes at offset ${offset}`, this.where);
      done += n;
    }
    return out;
  }

  close(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }
}

export class BufferByteSource implements ByteSource {
  readonly size: number;

  constructor(
    private readonly bytes: Uint8Array,
    readonly where = '<buffer>',
  ) {
    this.size = bytes.byteLength;
  }

  read(offset: number, length: number): Uint8Array {
    checkRange(this, offset, length);
    return this.bytes.slice(offset, offset + length);
  }

  close(): void {}
}
