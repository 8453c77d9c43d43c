import { MigeInputError } from '../errors.js';

const PAGE = 65536;

/**
 * Float32Arrays carved out of one WebAssembly.Memory, sized once (it never grows, so the views
 * stay valid): weights, gradients and optimizer state an engine keeps there can be updated by
 * a WebAssembly kernel in place (FlatAdamW), and handed to ONNX Runtime as they are.
 */
export class Float32Arena {
  readonly memory: WebAssembly.Memory;
  private next = 0;

  /** An arena of `floats` float32 values (at most 4 GiB, WebAssembly's 32-bit address space). */
  constructor(readonly floats: number) {
    const bytes = floats * 4;
    if (!Number.isSafeInteger(floats) || floats < 0 || bytes > 2 ** 32 - PAGE) throw new MigeInputError(`an arena of ${floats} floats does not fit WebAssembly's 4 GiB`, 'Float32Arena');
    const pages = Math.max(1, Math.ceil(bytes / PAGE));
    this.memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
  }

  /** Whether `floats` float32 values fit an arena. */
  static fits(floats: number): boolean {
    return floats * 4 <= 2 ** 32 - PAGE;
  }

  /** A zeroed view of `n` floats, 16-byte aligned (for SIMD loads). */
  alloc(n: number): Float32Array {
    const start = Math.ceil(this.next / 4) * 4;
    if (start + n > this.floats) throw new MigeInputError(`out of room: ${n} floats asked, ${this.floats - start} left`, 'Float32Arena');
    this.next = start + n;
    return new Float32Array(this.memory.buffer, start * 4, n);
  }

  /** Whether `a` is a view into this arena. */
  holds(a: Float32Array): boolean {
    return a.buffer === this.memory.buffer;
  }
}
