import { MigeInputError } from '../errors.js';
import { BufferByteSource, FileByteSource, type ByteSource } from './byte-source.js';
import { decodeTensorBytes, ITEM_SIZE } from './dtype-codec.js';
import { byteBudget } from './load-limits.js';
import { readSafetensorsHeader, type SafetensorsOpenOptions } from './safetensors-header.js';
import type { TensorData, TensorInfo } from './tensor-types.js';

/** Bytes a tensor takes once decoded: every dtype computes as 4-byte float32 or int32. */
function decodedBytes(info: TensorInfo): number {
  return (info.byteLength / ITEM_SIZE[info.dtype]) * 4;
}

/**
 * Lazy safetensors reader: opening parses only the header; `read` fetches one tensor's bytes.
 * Peak memory for a file is therefore its largest tensor, never the whole file. Dtypes are
 * widened to 4 bytes an element (U8 4×, F16 / BF16 2×), so no read may exceed `maxBytes`
 * (default: 8 × the file's size + 64 MiB), and the whole-file functions stay within it in total.
 */
export class SafetensorsReader {
  readonly metadata: Readonly<Record<string, string>>;
  private readonly index: Map<string, TensorInfo>;
  private readonly maxReadBytes: number;

  private constructor(
    private readonly source: ByteSource,
    options: SafetensorsOpenOptions,
  ) {
    const header = readSafetensorsHeader(source, options);
    this.metadata = header.metadata;
    this.index = new Map(header.tensors.map((t) => [t.name, t]));
    this.maxReadBytes = byteBudget(options, source.size, source.where).limit;
  }

  /** The file's (or buffer's) size in bytes. */
  get byteLength(): number {
    return this.source.size;
  }

  /** Where the bytes come from (the path), as errors name it. */
  get where(): string {
    return this.source.where;
  }

  /** Opens a file and validates its header; throws MigeInputError naming the problem. */
  static open(path: string, options: SafetensorsOpenOptions = {}): SafetensorsReader {
    const source = FileByteSource.open(path);
    try {
      return new SafetensorsReader(source, options);
    } catch (error) {
      source.close();
      throw error;
    }
  }

  /** The same, over bytes already in memory (`where` labels errors). */
  static fromBuffer(bytes: Uint8Array, options: SafetensorsOpenOptions & { where?: string } = {}): SafetensorsReader {
    return new SafetensorsReader(new BufferByteSource(bytes, options.where), options);
  }

  /** Tensor names in file order. */
  keys(): string[] {
    return [...this.index.keys()];
  }

  has(name: string): boolean {
    return this.index.has(name);
  }

  info(name: string): TensorInfo {
    const info = this.require(name);
    return { ...info, shape: [...info.shape] };
  }

  /** Bytes `read(name)` returns: every dtype decodes to 4-byte float32 or int32. */
  decodedBytes(name: string): number {
    return decodedBytes(this.require(name));
  }

  private require(name: string): TensorInfo {
    const info = this.index.get(name);
    if (!info) throw new MigeInputError(`no tensor named '${name}'`, this.source.where);
    return info;
  }

  /** Reads and decodes one tensor (float32 for F32/F16/BF16, int32 for I64/I32/U8). */
  read(name: string): TensorData {
    const info = this.require(name);
    const decoded = decodedBytes(info);
    if (decoded > this.maxReadBytes) {
      throw new MigeInputError(
        `tensor '${name}' decodes to ${decoded} bytes, over the ${this.maxReadBytes}-byte limit of one read (maxBytes)`,
        this.source.where,
      );
    }
    const bytes = info.byteLength === 0 ? new Uint8Array(0) : this.source.read(info.byteOffset, info.byteLength);
    return decodeTensorBytes(info.dtype, [...info.shape], bytes, `${this.source.where}:${name}`);
  }

  close(): void {
    this.source.close();
  }
}

export interface ParsedSafetensors {
  metadata: Record<string, string>;
  tensors: Map<string, TensorData>;
}

/** Every tensor, each charged against the load's byte budget before it is read. */
function readAll(reader: SafetensorsReader, options: SafetensorsOpenOptions): Map<string, TensorData> {
  const budget = byteBudget(options, reader.byteLength, reader.where);
  const out = new Map<string, TensorData>();
  for (const name of reader.keys()) {
    budget.charge(reader.decodedBytes(name), `tensor '${name}'`);
    out.set(name, reader.read(name));
  }
  return out;
}

/** Decodes a whole safetensors file held in memory. */
export function parseSafetensors(
  bytes: Uint8Array,
  options: SafetensorsOpenOptions & { where?: string } = {},
): ParsedSafetensors {
  const reader = SafetensorsReader.fromBuffer(bytes, options);
  return { metadata: { ...reader.metadata }, tensors: readAll(reader, options) };
}

/** Reads every tensor of a file, one at a time (the file is never held whole in memory). */
export function readSafetensors(path: string, options: SafetensorsOpenOptions = {}): Map<string, TensorData> {
  const reader = SafetensorsReader.open(path, options);
  try {
    return readAll(reader, options);
  } finally {
    reader.close();
  }
}
