/**
 * The protobuf wire format for the few ONNX messages MIGE.js writes and checks (see proto.ts):
 * a schema per message (field number, name, kind) drives one encoder and one decoder. It writes
 * what protobufjs writes for the same object (fields in number order, repeated numbers packed,
 * a scalar or message whenever it is an own property), so the bytes match onnx-proto's; the
 * decoder also reads unpacked repeated numbers and skips fields it does not know. As protobufjs
 * does, a decoded message has its repeated fields (arrays) and the fields read as own properties,
 * and every other field's default on its prototype: encoding it again writes what was read.
 */

export type ScalarKind = 'string' | 'bytes' | 'int64' | 'int32' | 'float';

export interface FieldSpec {
  id: number;
  name: string;
  kind: ScalarKind | 'message';
  repeated?: boolean;
  /** The message schema of a 'message' field (a thunk: schemas refer to each other). */
  message?: () => MessageSchema;
  /** A member of a oneof: left out of a decoded message when unset (no default), as protobufjs does. */
  oneof?: boolean;
}

export interface MessageSchema {
  name: string;
  /** In field-number order. */
  fields: readonly FieldSpec[];
}

type Obj = Record<string, unknown>;

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LEN = 2;
const WIRE_FIXED32 = 5;

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8');

/** Bytes gathered as chunks and joined once, so large initializers are copied a single time. */
class Chunks {
  readonly parts: Uint8Array[] = [];
  length = 0;
  private scratch: number[] = [];

  push(bytes: Uint8Array): void {
    this.flush();
    this.parts.push(bytes);
    this.length += bytes.byteLength;
  }

  byte(b: number): void {
    this.scratch.push(b);
    this.length += 1;
  }

  /** An unsigned varint of a non-negative safe integer, or a bigint (two's complement for negatives). */
  varint(value: number | bigint): void {
    let v = typeof value === 'bigint' ? BigInt.asUintN(64, value) : value;
    if (typeof v === 'number') {
      if (v < 0) {
        v = BigInt.asUintN(64, BigInt(v));
      } else {
        while (v > 0x7f) {
          this.byte((v % 128) | 0x80);
          v = Math.floor(v / 128);
        }
        this.byte(v);
        return;
      }
    }
    while (v > 0x7fn) {
      this.byte(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    this.byte(Number(v));
  }

  float32(value: number): void {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, value, true);
    for (const x of b) this.byte(x);
  }

  flush(): void {
    if (this.scratch.length === 0) return;
    this.parts.push(Uint8Array.from(this.scratch));
    this.scratch = [];
  }

  join(): Uint8Array {
    this.flush();
    if (this.parts.length === 1) return this.parts[0] as Uint8Array;
    const out = new Uint8Array(this.length);
    let at = 0;
    for (const p of this.parts) {
      out.set(p, at);
      at += p.byteLength;
    }
    return out;
  }
}

function tag(out: Chunks, id: number, wire: number): void {
  out.varint(id * 8 + wire);
}

function writeScalar(out: Chunks, kind: ScalarKind, value: unknown): void {
  switch (kind) {
    case 'string': {
      const bytes = utf8Encoder.encode(String(value));
      out.varint(bytes.byteLength);
      out.push(bytes);
      return;
    }
    case 'bytes': {
      const bytes = value as Uint8Array;
      out.varint(bytes.byteLength);
      out.push(bytes);
      return;
    }
    case 'int64':
    case 'int32':
      out.varint(toInteger(value));
      return;
    case 'float':
      out.float32(Number(value));
      return;
  }
}

function toInteger(value: unknown): number | bigint {
  if (typeof value === 'bigint') return value;
  // protobufjs Long objects (from onnx-proto) carry low / high words.
  if (typeof value === 'object' && value !== null && 'low' in value && 'high' in value) {
    const { low, high } = value as { low: number; high: number };
    return (BigInt(high) << 32n) | BigInt(low >>> 0);
  }
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new Error(`${String(value)} is not an integer`);
  return n;
}

function wireOf(kind: ScalarKind): number {
  return kind === 'float' ? WIRE_FIXED32 : kind === 'string' || kind === 'bytes' ? WIRE_LEN : WIRE_VARINT;
}

function encodeInto(out: Chunks, schema: MessageSchema, message: Obj): void {
  for (const f of schema.fields) {
    const value = message[f.name];
    if (value === undefined || value === null) continue;
    // A scalar or message default inherited from a decoded message's prototype was not set.
    if (!f.repeated && !Object.prototype.hasOwnProperty.call(message, f.name)) continue;
    if (f.kind === 'message') {
      const items = f.repeated ? (value as Obj[]) : [value as Obj];
      for (const item of items) {
        const child = new Chunks();
        encodeInto(child, (f.message as () => MessageSchema)(), item);
        child.flush();
        tag(out, f.id, WIRE_LEN);
        out.varint(child.length);
        for (const p of child.parts) out.push(p);
      }
    } else if (f.repeated) {
      const items = value as ArrayLike<unknown>;
      if (items.length === 0) continue;
      if (f.kind === 'string' || f.kind === 'bytes') {
        for (const item of Array.from(items)) {
          tag(out, f.id, WIRE_LEN);
          writeScalar(out, f.kind, item);
        }
      } else {
        const packed = new Chunks();
        for (const item of Array.from(items)) writeScalar(packed, f.kind, item);
        packed.flush();
        tag(out, f.id, WIRE_LEN);
        out.varint(packed.length);
        for (const p of packed.parts) out.push(p);
      }
    } else {
      tag(out, f.id, wireOf(f.kind));
      writeScalar(out, f.kind, value);
    }
  }
}

/** The message's bytes. */
export function encodeMessage(schema: MessageSchema, message: object): Uint8Array {
  const out = new Chunks();
  encodeInto(out, schema, message as Obj);
  return out.join();
}

class Reader {
  pos: number;
  constructor(
    readonly bytes: Uint8Array,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }

  /** A varint as a bigint (64 bits, unsigned). */
  varintBig(): bigint {
    let result = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new Error('truncated varint');
      const b = this.bytes[this.pos++] as number;
      result |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return BigInt.asUintN(64, result);
      shift += 7n;
    }
    throw new Error('varint longer than 10 bytes');
  }

  /** A varint as a number: small ones fast, the rest through bigint (negative int64 / int32 as such). */
  varint(): number {
    const start = this.pos;
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 7 && this.pos < this.end; i++) {
      const b = this.bytes[this.pos++] as number;
      result += (b & 0x7f) * mul;
      if (b < 0x80) return result;
      mul *= 128;
    }
    this.pos = start;
    const n = BigInt.asIntN(64, this.varintBig());
    if (n > BigInt(Number.MAX_SAFE_INTEGER) || n < BigInt(Number.MIN_SAFE_INTEGER)) throw new Error(`integer ${n} is out of JavaScript's safe range`);
    return Number(n);
  }

  length(): number {
    const n = this.varint();
    if (n < 0 || this.pos + n > this.end) throw new Error(`length ${n} runs past the end of the message`);
    return n;
  }

  skip(wire: number): void {
    if (wire === WIRE_VARINT) this.varintBig();
    else if (wire === WIRE_FIXED64) this.advance(8);
    else if (wire === WIRE_LEN) this.advance(this.length());
    else if (wire === WIRE_FIXED32) this.advance(4);
    else throw new Error(`unsupported wire type ${wire}`);
  }

  advance(n: number): void {
    if (this.pos + n > this.end) throw new Error('truncated message');
    this.pos += n;
  }

  float32(): number {
    this.advance(4);
    return new DataView(this.bytes.buffer, this.bytes.byteOffset + this.pos - 4, 4).getFloat32(0, true);
  }
}

function defaultOf(f: FieldSpec): unknown {
  switch (f.kind) {
    case 'string':
      return '';
    case 'bytes':
      return new Uint8Array(0);
    case 'message':
      return null;
    default:
      return 0;
  }
}

function readScalar(r: Reader, kind: ScalarKind): unknown {
  switch (kind) {
    case 'string': {
      const n = r.length();
      const s = utf8Decoder.decode(r.bytes.subarray(r.pos, r.pos + n));
      r.pos += n;
      return s;
    }
    case 'bytes': {
      const n = r.length();
      const b = r.bytes.subarray(r.pos, r.pos + n);
      r.pos += n;
      return b;
    }
    case 'float':
      return r.float32();
    default:
      return r.varint();
  }
}

const defaults = new WeakMap<MessageSchema, Obj>();

/** The prototype of a schema's decoded messages: its scalar and message fields' defaults. */
function defaultsOf(schema: MessageSchema): Obj {
  let proto = defaults.get(schema);
  if (!proto) {
    proto = {};
    for (const f of schema.fields) if (!f.repeated && !f.oneof) proto[f.name] = defaultOf(f);
    // Not frozen: a decoded message's own assignment must be able to shadow a default.
    defaults.set(schema, proto);
  }
  return proto;
}

function decodeFrom(r: Reader, schema: MessageSchema): Obj {
  const out = Object.create(defaultsOf(schema)) as Obj;
  for (const f of schema.fields) if (f.repeated) out[f.name] = [];
  const byId = new Map(schema.fields.map((f) => [f.id, f]));
  while (r.pos < r.end) {
    const key = r.varint();
    const id = Math.floor(key / 8);
    const wire = key & 7;
    const f = byId.get(id);
    if (!f) {
      r.skip(wire);
      continue;
    }
    if (f.kind === 'message') {
      const n = r.length();
      const value = decodeFrom(new Reader(r.bytes, r.pos, r.pos + n), (f.message as () => MessageSchema)());
      r.pos += n;
      if (f.repeated) (out[f.name] as Obj[]).push(value);
      else out[f.name] = value;
    } else if (f.repeated && wire === WIRE_LEN && f.kind !== 'string' && f.kind !== 'bytes') {
      const n = r.length();
      const inner = new Reader(r.bytes, r.pos, r.pos + n);
      while (inner.pos < inner.end) (out[f.name] as unknown[]).push(readScalar(inner, f.kind));
      r.pos += n;
    } else {
      if (wire !== wireOf(f.kind)) throw new Error(`${schema.name}.${f.name} has wire type ${wire}, expected ${wireOf(f.kind)}`);
      const value = readScalar(r, f.kind);
      if (f.repeated) (out[f.name] as unknown[]).push(value);
      else out[f.name] = value;
    }
  }
  return out;
}

/** Decodes a message: repeated fields as arrays, read fields as own properties, the rest at their protobuf defaults (messages null) through the prototype. */
export function decodeMessage<T>(schema: MessageSchema, bytes: Uint8Array): T {
  return decodeFrom(new Reader(bytes, 0, bytes.byteLength), schema) as T;
}
