/**
 * A minimal protobuf wire-format reader: enough to walk a sentencepiece ModelProto without a
 * protobuf dependency. Every out-of-bounds read becomes a MigeInputError naming the file.
 */
import { MigeInputError } from '@mige/core';

export const WireType = { Varint: 0, Fixed64: 1, LengthDelimited: 2, Fixed32: 5 } as const;

export interface FieldTag {
  field: number;
  wireType: number;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

export class ProtoReader {
  private pos = 0;
  private readonly view: DataView;

  constructor(
    private readonly bytes: Uint8Array,
    /** Named in errors: the file path and the message being read. */
    private readonly where: string,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get done(): boolean {
    return this.pos >= this.bytes.length;
  }

  private fail(message: string): never {
    throw new MigeInputError(`${message} at byte ${this.pos} (not a valid sentencepiece model?)`, this.where);
  }

  private need(n: number): void {
    if (this.pos + n > this.bytes.length) this.fail(`truncated: ${n} more bytes needed, ${this.bytes.length - this.pos} left`);
  }

  /** Up to 10 bytes, as a 64-bit unsigned value (negative int32 fields use all 10). */
  varint(): bigint {
    let value = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      this.need(1);
      const byte = this.bytes[this.pos++] ?? 0;
      value |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return BigInt.asUintN(64, value);
    }
    return this.fail('varint longer than 10 bytes');
  }

  int32(): number {
    return Number(BigInt.asIntN(32, this.varint()));
  }

  bool(): boolean {
    return this.varint() !== 0n;
  }

  tag(): FieldTag {
    const raw = this.varint();
    const field = Number(raw >> 3n);
    if (field === 0 || field > 0x1fffffff) this.fail(`invalid field number ${field}`);
    return { field, wireType: Number(raw & 7n) };
  }

  bytesField(): Uint8Array {
    const length = this.varint();
    if (length > BigInt(this.bytes.length - this.pos)) this.fail(`truncated: a ${length}-byte field runs past the end`);
    const n = Number(length);
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  string(): string {
    const raw = this.bytesField();
    try {
      return utf8.decode(raw);
    } catch {
      return this.fail('a string field is not valid UTF-8');
    }
  }

  float(): number {
    this.need(4);
    const value = this.view.getFloat32(this.pos, true);
    this.pos += 4;
    return value;
  }

  /** Fails when `tag` does not carry the wire type the schema expects for its field. */
  expect(tag: FieldTag, wireType: number): void {
    if (tag.wireType !== wireType) this.fail(`field ${tag.field} has wire type ${tag.wireType}, expected ${wireType}`);
  }

  /** Skips a field this reader does not need (unknown fields are legal protobuf). */
  skip(tag: FieldTag): void {
    switch (tag.wireType) {
      case WireType.Varint:
        this.varint();
        return;
      case WireType.Fixed64:
        this.need(8);
        this.pos += 8;
        return;
      case WireType.LengthDelimited:
        this.bytesField();
        return;
      case WireType.Fixed32:
        this.need(4);
        this.pos += 4;
        return;
      default:
        this.fail(`unsupported wire type ${tag.wireType} (field ${tag.field})`);
    }
  }
}
