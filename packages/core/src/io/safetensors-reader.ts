import { MigeInputError } from '../errors.js';
import { BufferByteSource, FileByteSource, type ByteSource } from './byte-source.js';
import { decodeTensorBytes } from './dtype-codec.js';
import { readSafetensorsHeader, type SafetensorsOpenOptions } from './safetensors-header.js';
import type { TensorData, TensorInfo } from './tensor-types.js';

/**
 * Lazy safetensors reader: opening parses only the header; `read` fetches one tensor's bytes.
 * Peak memory for a file is therefore its largest tensor, never the whole file.
 */
export class SafetensorsReader {
  readonly metadata: Readonly<Record<string, string>>;
  private readonly index: Map<string, TensorInfo>;

  private constructor(
    private readonly source: ByteSource,
    options: SafetensorsOpenOptions,
  ) {
    const header = readSafetensorsHeader(source, options);
    this.metadata = header.metadata;
    this.index = new Map(header.tensors.map((t) => [t.name, t]));
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
    const info = this.index.get(name);
    if (!info) throw new MigeInputError(`no tensor named '${name}'`, this.source.where);
    return { ...info, shape: [...info.shape] };
  }

  /** Reads and decodes one tensor (float32 for F32/F16/BF16, int32 for I64/I32/U8). */
  read(name: string): TensorData {
    const info = this.info(name);
    const bytes = this.source.read(info.byteOffset, info.byteLength);
    return decodeTensorBytes(info.dtype, info.shape, bytes, `${this.source.where}:${name}`);
  }

  close(): void {
    this.source.close();
  }
}

export interface ParsedSafetensors {
  metadata: Record<string, string>;
  tensors: Map<string, TensorData>;
}

function readAll(reader: SafetensorsReader): Map<string, TensorData> {
  return new Map(reader.keys().map((name) => [name, reader.read(name)]));
}

/** Decodes a whole safetensors file held in memory. */
export function parseSafetensors(
  bytes: Uint8Array,
  options: SafetensorsOpenOptions & { where?: string } = {},
): ParsedSafetensors {
  const reader = SafetensorsReader.fromBuffer(bytes, options);
  return { metadata: { ...reader.metadata }, tensors: readAll(reader) };
}

/** Reads every tensor of a file, one at a time (the file is never held whole in memory). */
export function readSafetensors(path: string, options: SafetensorsOpenOptions = {}): Map<string, TensorData> {
  const reader = SafetensorsReader.open(path, options);
  try {
    return readAll(reader);
  } finally {
    reader.close();
  }
}
