/**
 * A pickle assembler for crafted inputs: each method appends one opcode (Python's pickletools
 * names), so hostile streams (bombs, deep nesting, lying lengths) are easy to write down.
 */
export class Pickle {
  private readonly parts: Uint8Array[] = [];

  /** Raw bytes, for anything the methods below do not cover. */
  raw(...bytes: (number[] | Uint8Array | string)[]): this {
    for (const b of bytes) this.parts.push(typeof b === 'string' ? Buffer.from(b, 'latin1') : Uint8Array.from(b));
    return this;
  }

  proto(n = 2): this {
    return this.raw([0x80, n]);
  }
  mark(): this {
    return this.raw('(');
  }
  stop(): this {
    return this.raw('.');
  }
  none(): this {
    return this.raw('N');
  }
  bool(v: boolean): this {
    return this.raw([v ? 0x88 : 0x89]);
  }
  emptyDict(): this {
    return this.raw('}');
  }
  emptyList(): this {
    return this.raw(']');
  }
  emptyTuple(): this {
    return this.raw(')');
  }
  /** BININT1 / BININT2 / BININT, whichever fits. */
  int(n: number): this {
    if (n >= 0 && n < 256) return this.raw([0x4b, n]);
    if (n >= 0 && n < 65536) return this.raw([0x4d, n & 0xff, n >> 8]);
    const b = Buffer.alloc(5);
    b[0] = 0x4a;
    b.writeInt32LE(n, 1);
    return this.raw(b);
  }
  /** LONG1 (n < 256 bytes) or LONG4 of little-endian two's-complement bytes. */
  long(bytes: Uint8Array): this {
    if (bytes.length < 256) return this.raw([0x8a, bytes.length], bytes);
    const head = Buffer.alloc(5);
    head[0] = 0x8b;
    head.writeInt32LE(bytes.length, 1);
    return this.raw(head, bytes);
  }
  /** LONG4 whose declared length is `declared` (may lie about the bytes that follow). */
  long4Declared(declared: number, bytes: Uint8Array): this {
    const head = Buffer.alloc(5);
    head[0] = 0x8b;
    head.writeInt32LE(declared, 1);
    return this.raw(head, bytes);
  }
  float(x: number): this {
    const b = Buffer.alloc(9);
    b[0] = 0x47;
    b.writeDoubleBE(x, 1);
    return this.raw(b);
  }
  /** BINUNICODE. */
  str(s: string): this {
    const bytes = Buffer.from(s, 'utf8');
    const head = Buffer.alloc(5);
    head[0] = 0x58;
    head.writeUInt32LE(bytes.length, 1);
    return this.raw(head, bytes);
  }
  /** BINBYTES. */
  bytes(data: Uint8Array): this {
    const head = Buffer.alloc(5);
    head[0] = 0x42;
    head.writeUInt32LE(data.length, 1);
    return this.raw(head, data);
  }
  tuple(): this {
    return this.raw('t');
  }
  tupleN(n: 1 | 2 | 3): this {
    return this.raw([0x84 + n]);
  }
  list(): this {
    return this.raw('l');
  }
  dict(): this {
    return this.raw('d');
  }
  append(): this {
    return this.raw('a');
  }
  appends(): this {
    return this.raw('e');
  }
  setitem(): this {
    return this.raw('s');
  }
  setitems(): this {
    return this.raw('u');
  }
  put(i: number): this {
    if (i < 256) return this.raw('q', [i]);
    const b = Buffer.alloc(5);
    b[0] = 0x72;
    b.writeUInt32LE(i, 1);
    return this.raw(b);
  }
  get(i: number): this {
    if (i < 256) return this.raw('h', [i]);
    const b = Buffer.alloc(5);
    b[0] = 0x6a;
    b.writeUInt32LE(i, 1);
    return this.raw(b);
  }
  memoize(): this {
    return this.raw([0x94]);
  }
  dup(): this {
    return this.raw('2');
  }
  pop(): this {
    return this.raw('0');
  }
  global(module: string, name: string): this {
    return this.raw(`c${module}\n${name}\n`);
  }
  reduce(): this {
    return this.raw('R');
  }
  build(): this {
    return this.raw('b');
  }
  persid(): this {
    return this.raw('Q');
  }

  /** `_rebuild_tensor_v2(('storage', <dtype>Storage, key, 'cpu', numel), offset, size, stride, False, OrderedDict())`. */
  tensor(t: TensorSpec): this {
    this.global('torch._utils', '_rebuild_tensor_v2').mark();
    this.mark().str('storage').global('torch', t.storageType ?? 'FloatStorage').str(t.key).str('cpu').int(t.numel).tuple().persid();
    this.int(t.offset ?? 0);
    this.mark();
    for (const d of t.size) this.int(d);
    this.tuple().mark();
    for (const s of t.stride) this.int(s);
    this.tuple().bool(false).global('collections', 'OrderedDict').emptyTuple().reduce();
    return this.tuple().reduce();
  }

  /** `{name: tensor, ...}` as torch.save writes a state dict (protocol 2). */
  stateDict(tensors: Record<string, TensorSpec>): this {
    this.proto(2).emptyDict().mark();
    for (const [name, t] of Object.entries(tensors)) this.str(name).tensor(t);
    return this.setitems().stop();
  }

  toBytes(): Uint8Array {
    return Buffer.concat(this.parts);
  }

  get length(): number {
    return this.parts.reduce((n, p) => n + p.length, 0);
  }
}

export interface TensorSpec {
  key: string;
  numel: number;
  size: number[];
  stride: number[];
  offset?: number;
  /** torch's storage class name (default FloatStorage). */
  storageType?: string;
}

/** Row-major strides of `size`. */
export function contiguous(size: number[]): number[] {
  const out = new Array<number>(size.length);
  let s = 1;
  for (let d = size.length - 1; d >= 0; d--) {
    out[d] = s;
    s *= size[d] as number;
  }
  return out;
}
