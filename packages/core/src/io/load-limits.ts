import { MigeInputError } from '../errors.js';

/**
 * Resource limits of the weight loaders (safetensors, .pth), checked before anything is
 * allocated: a file is refused with a MigeInputError naming the limit, never by running out of
 * memory. The defaults scale with the file, so real checkpoints of any size load (a 10 GB
 * T5-XXL shard, a 2.5 GB MIGE model.pth), while a small file cannot make the process allocate
 * more than a fixed multiple of its own size. Raise a limit for a file you trust that needs it.
 */
export interface LoadLimits {
  /**
   * Most bytes a load may materialise: decoded tensors (float32 / int32, 4 bytes an element)
   * and inflated zip entries. One tensor read may not exceed it, a whole-file read
   * (readSafetensors, parseSafetensors, readPthStateDict) may not exceed it in total, and a .pth
   * reader inflates at most this much over its life. Default: DEFAULT_EXPANSION_RATIO × the
   * file's size + DEFAULT_BUDGET_FLOOR_BYTES.
   */
  maxBytes?: number;
  /**
   * Most elements of one tensor. Default: none beyond what its stored bytes hold, except that a
   * .pth view repeating its storage (zero or overlapping strides, `x.expand(2, 3)`) may have up
   * to MAX_REPEATING_VIEW_ELEMENTS (4 Mi): a 600-byte file cannot describe gigabytes.
   */
  maxElements?: number;
  /**
   * Most objects the file's structure may describe: values pushed, containers made and memo
   * entries of a pickle (DEFAULT_MAX_PICKLE_OBJECTS); entries of a safetensors header
   * (DEFAULT_MAX_HEADER_ENTRIES).
   */
  maxObjects?: number;
}

/**
 * Decoded float32 is at most 4× its stored bytes (uint8 / bool widen 4×, float16 2×), and a
 * whole-file read touches each stored byte about once; 8× leaves room for tied weights read twice.
 */
export const DEFAULT_EXPANSION_RATIO = 8;
/** Small files still get enough to load (a pickle's structure, a few tensors). */
export const DEFAULT_BUDGET_FLOOR_BYTES = 64 * 1024 * 1024;
/**
 * About 80,000 tensors' worth of torch.save structure (a state dict takes ~25 objects a tensor;
 * the largest official checkpoints have a few thousand tensors); a bomb stops here at ~200 MB.
 */
export const DEFAULT_MAX_PICKLE_OBJECTS = 2_000_000;
/** Tensors plus metadata keys: real checkpoints, LLM shards included, have a few thousand. */
export const DEFAULT_MAX_HEADER_ENTRIES = 200_000;

/** The byte budget of a file of `fileSize` bytes. */
export function defaultMaxBytes(fileSize: number): number {
  return DEFAULT_EXPANSION_RATIO * fileSize + DEFAULT_BUDGET_FLOOR_BYTES;
}

/** Checks a caller's limit: a positive safe integer (or undefined for the default). */
export function checkLimit(value: number | undefined, name: string, where: string): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isSafeInteger(value) || value < 1) throw new MigeInputError(`limit ${name} must be a positive integer, got ${String(value)}`, where);
  return value;
}

/** Bytes materialised so far against one limit; `charge` refuses what would pass it. */
export class ByteBudget {
  private used = 0;

  constructor(
    readonly limit: number,
    /** Says how the limit was set, for the message (`maxBytes=…` or `8 × the file size + 64 MiB`). */
    private readonly origin: string,
    private readonly where: string,
  ) {}

  /** Throws before `bytes` more would pass the limit. */
  charge(bytes: number, what: string): void {
    if (this.used + bytes > this.limit) {
      throw new MigeInputError(
        `${what} needs ${bytes} bytes, over the ${this.limit}-byte budget of this load (${this.origin}${this.used ? `; ${this.used} already used` : ''}): pass a larger maxBytes for a file you trust`,
        this.where,
      );
    }
    this.used += bytes;
  }

  /** Whether `bytes` would fit, without charging them. */
  fits(bytes: number): boolean {
    return this.used + bytes <= this.limit;
  }
}

/** A budget from the caller's maxBytes, else the file-size default. */
export function byteBudget(limits: LoadLimits, fileSize: number, where: string): ByteBudget {
  const given = checkLimit(limits.maxBytes, 'maxBytes', where);
  if (given !== undefined) return new ByteBudget(given, `maxBytes=${given}`, where);
  return new ByteBudget(defaultMaxBytes(fileSize), `by default ${DEFAULT_EXPANSION_RATIO} × the ${fileSize}-byte file + 64 MiB`, where);
}
