import { MigeInputError } from '../errors.js';
import { DEFAULT_MAX_PICKLE_OBJECTS } from './load-limits.js';
import { PickleDict, PickleGlobal, PickleTuple, pythonKind, type PickleValue } from './pickle-values.js';

/**
 * What a restricted unpickle may touch. Globals not listed here are refused at the GLOBAL
 * opcode, before anything could call them: nothing from the pickle is ever executed, the
 * handlers below are our own functions that build plain values.
 */
export interface PickleEnvironment {
  /** Allowed globals by qualified name (`module.name`); `call` is what REDUCE does with them. */
  globals: ReadonlyMap<string, { call?: (args: PickleValue[]) => PickleValue }>;
  /** BINPERSID: turns a persistent id into a value (torch: storage references). */
  persistentLoad?: (pid: PickleValue) => PickleValue;
  /**
   * Most objects the pickle may make: every value pushed (a container, a scalar, a reference
   * from DUP or the memo), every MARK and every memo entry. Default DEFAULT_MAX_PICKLE_OBJECTS.
   */
  maxObjects?: number;
}

const latin1 = new TextDecoder('latin1');
const utf8 = new TextDecoder('utf-8', { fatal: true });

const kind = pythonKind;

/** Python ints this long (in bytes) or shorter are decoded with plain arithmetic. */
const SMALL_LONG_BYTES = 6;

/**
 * Reads the pickle byte by byte; every opcode consumes input, so it always terminates. What it
 * builds is bounded by `maxObjects`: a bomb of a billion one-byte EMPTY_DICTs stops at the count,
 * long before memory runs out.
 */
class Machine {
  private pos = 0;
  private objects = 0;
  private readonly maxObjects: number;
  private readonly stack: PickleValue[] = [];
  /** Stack heights at each open MARK; items below the last one are out of reach, as in Python. */
  private readonly marks: number[] = [];
  /**
   * The memo: an array while indices are dense (as pickle writes them; a Map of millions of
   * entries is ~20× slower to fill), a Map for the far indices a crafted LONG_BINPUT may use.
   */
  private readonly memo: (PickleValue | undefined)[] = [];
  private readonly farMemo = new Map<number, PickleValue>();
  private memoCount = 0;
  private readonly view: DataView;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly env: PickleEnvironment,
    private readonly where: string,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.maxObjects = env.maxObjects ?? DEFAULT_MAX_PICKLE_OBJECTS;
  }

  /** Counts one more object against maxObjects. */
  private count(): void {
    if (++this.objects > this.maxObjects) {
      this.fail(
        `the pickle makes more than ${this.maxObjects} objects (values, marks and memo entries; maxObjects): not a checkpoint's structure, or pass a larger maxObjects for a file you trust`,
      );
    }
  }

  fail(message: string, at = this.pos): never {
    throw new MigeInputError(`${message} (pickle byte ${at})`, this.where);
  }

  private take(n: number): number {
    if (!Number.isSafeInteger(n) || n < 0) this.fail(`invalid length ${n}`);
    if (this.pos + n > this.bytes.length)
      this.fail(`pickle truncated: needs ${n} more bytes`);
    const at = this.pos;
    this.pos += n;
    return at;
  }

  private u8(): number {
    return this.view.getUint8(this.take(1));
  }
  private u16(): number {
    return this.view.getUint16(this.take(2), true);
  }
  private u32(): number {
    return this.view.getUint32(this.take(4), true);
  }
  private u64(): number {
    const value = this.view.getBigUint64(this.take(8), true);
    if (value > BigInt(this.bytes.length)) this.fail(`length ${value} exceeds the pickle size`);
    return Number(value);
  }
  private raw(n: number): Uint8Array {
    const at = this.take(n);
    return this.bytes.subarray(at, at + n);
  }
  private text(n: number): string {
    const bytes = this.raw(n);
    try {
      return utf8.decode(bytes);
    } catch {
      return this.fail('string is not valid UTF-8');
    }
  }
  private line(): string {
    const end = this.bytes.indexOf(0x0a, this.pos);
    if (end < 0) this.fail('pickle truncated inside a GLOBAL name');
    return latin1.decode(this.raw(end - this.pos + 1)).slice(0, -1);
  }

  private push(value: PickleValue): void {
    this.count();
    this.stack.push(value);
  }
  private pop(): PickleValue {
    const mark = this.marks[this.marks.length - 1] ?? 0;
    if (this.stack.length <= mark) this.fail('pickle stack underflow');
    return this.stack.pop() as PickleValue;
  }
  private top(): PickleValue {
    const mark = this.marks[this.marks.length - 1] ?? 0;
    if (this.stack.length <= mark) this.fail('pickle stack underflow');
    return this.stack[this.stack.length - 1] as PickleValue;
  }
  /** Items pushed since the last MARK, removing them and the mark. */
  private popMark(): PickleValue[] {
    const mark = this.marks.pop();
    if (mark === undefined) this.fail('no MARK on the pickle stack');
    return this.stack.splice(mark);
  }

  /**
   * LONG1 / LONG4: n little-endian two's-complement bytes. Decoded through one hex string, which
   * BigInt parses in linear time (shifting a bigint byte by byte is quadratic: minutes for 2 MB).
   */
  private long(n: number): number | bigint {
    const b = this.raw(n);
    if (n === 0) return 0;
    const negative = ((b[n - 1] as number) & 0x80) !== 0;
    if (n <= SMALL_LONG_BYTES) {
      let value = 0;
      for (let i = n - 1; i >= 0; i--) value = value * 256 + (b[i] as number);
      return negative ? value - 2 ** (8 * n) : value;
    }
    let value = BigInt(`0x${Buffer.from(b).reverse().toString('hex')}`);
    if (negative) value -= 1n << BigInt(8 * n);
    return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
  }

  private memoPut(index: number): void {
    const value = this.top();
    if (index <= this.memo.length) {
      if (this.memo[index] === undefined) this.addMemoEntry();
      this.memo[index] = value;
    } else {
      if (!this.farMemo.has(index)) this.addMemoEntry();
      this.farMemo.set(index, value);
    }
  }

  private addMemoEntry(): void {
    this.count();
    this.memoCount++;
  }

  private resolveGlobal(module: string, name: string, at: number): PickleGlobal {
    const qualified = `${module}.${name}`;
    if (!this.env.globals.has(qualified)) {
      this.fail(
        `pickle references forbidden global '${qualified}'; only tensors and plain containers may be loaded, nothing is executed`,
        at,
      );
    }
    return new PickleGlobal(module, name);
  }

  private setItems(target: PickleValue, items: PickleValue[]): PickleValue {
    if (!(target instanceof PickleDict)) this.fail(`SETITEM(S) on a ${kind(target)}, not a dict`);
    if (items.length % 2) this.fail('SETITEMS with an odd number of items');
    for (let i = 0; i < items.length; i += 2) target.entries.set(items[i] as PickleValue, items[i + 1] as PickleValue);
    return target;
  }

  /** Takes the already-popped items: the target is what lies below them. */
  private appendToTop(items: PickleValue[]): void {
    const target = this.top();
    if (!Array.isArray(target)) this.fail(`APPEND(S) on a ${kind(target)}, not a list`);
    for (const item of items) target.push(item);
  }

  private setItemsOnTop(items: PickleValue[]): void {
    this.setItems(this.top(), items);
  }

  /** REDUCE: `items` is [callable, args] as popped. */
  private reduce(items: PickleValue[]): PickleValue {
    const [callable, args] = items as [PickleValue, PickleValue];
    if (!(callable instanceof PickleGlobal)) this.fail(`REDUCE on a ${kind(callable)}`);
    if (!(args instanceof PickleTuple))
      this.fail(`REDUCE arguments for '${callable.qualifiedName}' are a ${kind(args)}, not a tuple`);
    const call = this.env.globals.get(callable.qualifiedName)?.call;
    if (!call) this.fail(`global '${callable.qualifiedName}' cannot be called`);
    try {
      return call(args.items);
    } catch (error) {
      if (error instanceof MigeInputError) throw error;
      return this.fail(`${callable.qualifiedName}: ${(error as Error).message}`);
    }
  }

  private buildTop(state: PickleValue): void {
    const target = this.top();
    // Only a dict's attributes (a state dict's `_metadata`) are kept; other state is ignored.
    if (target instanceof PickleDict && state instanceof PickleDict) {
      for (const [k, v] of state.entries) if (typeof k === 'string') target.attributes.set(k, v);
      return;
    }
    if (typeof target === 'object' && target !== null && !(target instanceof Uint8Array) && !Array.isArray(target))
      return;
    this.fail(`BUILD on a ${kind(target)}`);
  }

  /** One handler per supported opcode; anything else is rejected. STOP is handled by run(). */
  private readonly ops = new Map<number, (at: number) => void>([
    [0x80, (at) => this.proto(at)], // PROTO
    [0x95, () => this.take(8)], // FRAME: only a read-ahead hint
    [0x28, () => this.mark()], // MARK
    [0x7d, () => this.push(new PickleDict())], // EMPTY_DICT
    [0x5d, () => this.push([])], // EMPTY_LIST
    [0x29, () => this.push(new PickleTuple([]))], // EMPTY_TUPLE
    [0x8f, () => this.push([])], // EMPTY_SET, kept as a list
    [0x4e, () => this.push(null)], // NONE
    [0x88, () => this.push(true)], // NEWTRUE
    [0x89, () => this.push(false)], // NEWFALSE
    [0x4a, () => this.push(this.i32())], // BININT
    [0x4b, () => this.push(this.u8())], // BININT1
    [0x4d, () => this.push(this.u16())], // BININT2
    [0x8a, () => this.push(this.long(this.u8()))], // LONG1
    [0x8b, () => this.push(this.long(this.i32()))], // LONG4
    [0x47, () => this.push(this.view.getFloat64(this.take(8), false))], // BINFLOAT (big-endian)
    [0x58, () => this.push(this.text(this.u32()))], // BINUNICODE
    [0x8c, () => this.push(this.text(this.u8()))], // SHORT_BINUNICODE
    [0x8d, () => this.push(this.text(this.u64()))], // BINUNICODE8
    [0x54, () => this.push(latin1.decode(this.raw(this.i32())))], // BINSTRING (Python 2 str)
    [0x55, () => this.push(latin1.decode(this.raw(this.u8())))], // SHORT_BINSTRING
    [0x42, () => this.push(this.raw(this.u32()).slice())], // BINBYTES
    [0x43, () => this.push(this.raw(this.u8()).slice())], // SHORT_BINBYTES
    [0x8e, () => this.push(this.raw(this.u64()).slice())], // BINBYTES8
    [0x74, () => this.push(new PickleTuple(this.popMark()))], // TUPLE
    [0x85, () => this.push(new PickleTuple(this.popN(1)))], // TUPLE1
    [0x86, () => this.push(new PickleTuple(this.popN(2)))], // TUPLE2
    [0x87, () => this.push(new PickleTuple(this.popN(3)))], // TUPLE3
    [0x6c, () => this.push(this.popMark())], // LIST
    [0x91, () => this.push(this.popMark())], // FROZENSET, kept as a list
    [0x64, () => this.push(this.setItems(new PickleDict(), this.popMark()))], // DICT
    [0x61, () => this.appendToTop(this.popN(1))], // APPEND
    [0x65, () => this.appendToTop(this.popMark())], // APPENDS
    [0x90, () => this.appendToTop(this.popMark())], // ADDITEMS (sets are lists)
    [0x73, () => this.setItemsOnTop(this.popN(2))], // SETITEM
    [0x75, () => this.setItemsOnTop(this.popMark())], // SETITEMS
    [0x71, () => this.memoPut(this.u8())], // BINPUT
    [0x72, () => this.memoPut(this.u32())], // LONG_BINPUT
    [0x94, () => this.memoPut(this.memoCount)], // MEMOIZE
    [0x68, (at) => this.push(this.memoGet(this.u8(), at))], // BINGET
    [0x6a, (at) => this.push(this.memoGet(this.u32(), at))], // LONG_BINGET
    [0x30, () => this.pop()], // POP
    [0x31, () => this.popMark()], // POP_MARK
    [0x32, () => this.push(this.top())], // DUP
    [0x63, (at) => this.push(this.resolveGlobal(this.line(), this.line(), at))], // GLOBAL
    [0x93, (at) => this.push(this.stackGlobal(at))], // STACK_GLOBAL
    [0x52, () => this.push(this.reduce(this.popN(2)))], // REDUCE
    [0x62, () => this.buildTop(this.pop())], // BUILD
    [0x51, (at) => this.push(this.persistentLoad(this.pop(), at))], // BINPERSID
  ]);

  private mark(): void {
    this.count();
    this.marks.push(this.stack.length);
  }

  private i32(): number {
    return this.view.getInt32(this.take(4), true);
  }

  private proto(at: number): void {
    const proto = this.u8();
    if (proto > 5) this.fail(`unsupported pickle protocol ${proto}`, at);
  }

  /** The top n items, in stack order. */
  private popN(n: number): PickleValue[] {
    const items: PickleValue[] = [];
    for (let i = 0; i < n; i++) items.unshift(this.pop());
    return items;
  }

  private memoGet(index: number, at: number): PickleValue {
    const value = index < this.memo.length ? this.memo[index] : this.farMemo.get(index);
    if (value === undefined) this.fail(`memo entry ${index} is not defined`, at);
    return value;
  }

  private stackGlobal(at: number): PickleGlobal {
    const [module, name] = this.popN(2);
    if (typeof module !== 'string' || typeof name !== 'string') this.fail('STACK_GLOBAL needs two strings', at);
    return this.resolveGlobal(module, name, at);
  }

  private persistentLoad(pid: PickleValue, at: number): PickleValue {
    if (!this.env.persistentLoad) this.fail('persistent ids are not allowed here', at);
    return this.env.persistentLoad(pid);
  }

  run(): PickleValue {
    while (this.pos < this.bytes.length) {
      const at = this.pos;
      const op = this.u8();
      if (op === 0x2e) return this.stop(at); // STOP
      const handler = this.ops.get(op);
      if (!handler) this.fail(`unsupported pickle opcode 0x${op.toString(16).padStart(2, '0')}`, at);
      handler(at);
    }
    return this.fail('pickle ended without STOP');
  }

  private stop(at: number): PickleValue {
    if (this.marks.length) this.fail('STOP with an open MARK', at);
    const result = this.pop();
    if (this.stack.length) this.fail(`STOP with ${this.stack.length} extra items on the stack`, at);
    return result;
  }
}

/**
 * Restricted unpickler for the opcodes torch.save emits (protocol 2, plus the data opcodes of
 * protocols 3-5). Object construction (NEWOBJ, INST, OBJ), extension codes and text-mode
 * opcodes are rejected, as is any global missing from `env.globals`.
 */
export function unpickle(bytes: Uint8Array, env: PickleEnvironment, where: string): PickleValue {
  if (env.maxObjects !== undefined && !(Number.isSafeInteger(env.maxObjects) && env.maxObjects > 0)) {
    throw new MigeInputError(`limit maxObjects must be a positive integer, got ${String(env.maxObjects)}`, where);
  }
  return new Machine(bytes, env, where).run();
}
