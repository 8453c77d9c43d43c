/**
 * @mige/core/testing: helpers the packages' test suites share (no test framework dependency:
 * failures throw Errors whose messages say what differed).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import * as zlib from 'node:zlib';
// Through core's root module: the build keeps it external (../index.cjs), so the helpers share
// core's one copy instead of bundling a second.
import { initBackend, SafetensorsReader, tf, type BackendName } from '../index.js';

/** Backends the parity tests run on (tfjs-node cannot be installed on the project machines). */
export const TEST_BACKENDS: BackendName[] = ['wasm', 'cpu'];

export async function useBackend(name: BackendName): Promise<void> {
  await initBackend({ backend: name, log: null });
}

/**
 * max |a − b| over all elements. Any NaN or ±Infinity in either side gives NaN (so no tolerance
 * accepts it), wherever it stands: a later finite difference must not hide it. Throws when the
 * sizes differ.
 */
export function maxAbsDiff(a: tf.Tensor | ArrayLike<number>, b: tf.Tensor | ArrayLike<number>): number {
  const x = a instanceof tf.Tensor ? a.dataSync() : a;
  const y = b instanceof tf.Tensor ? b.dataSync() : b;
  if (x.length !== y.length) throw new Error(`sizes differ: ${x.length} vs ${y.length}`);
  let m = 0;
  for (let i = 0; i < x.length; i++) {
    const xi = x[i] as number, yi = y[i] as number;
    if (!Number.isFinite(xi) || !Number.isFinite(yi)) return NaN;
    const d = Math.abs(xi - yi);
    if (d > m) m = d;
  }
  return m;
}

/** The index and value of the first NaN or ±Infinity in `a`, or null when every element is finite. */
export function firstNonFinite(a: tf.Tensor | ArrayLike<number>): { index: number; value: number } | null {
  const x = a instanceof tf.Tensor ? a.dataSync() : a;
  for (let i = 0; i < x.length; i++) {
    const v = x[i] as number;
    if (!Number.isFinite(v)) return { index: i, value: v };
  }
  return null;
}

/**
 * Throws unless the shapes are equal, every element of both is finite and
 * max |actual − expected| ≤ tol; returns the difference.
 */
export function expectClose(actual: tf.Tensor, expected: tf.Tensor, tol: number, label = 'tensor'): number {
  if (actual.shape.join() !== expected.shape.join()) {
    throw new Error(`${label}: shape [${actual.shape}] differs from the expected [${expected.shape}]`);
  }
  for (const [side, t] of [['actual', actual], ['expected', expected]] as const) {
    const bad = firstNonFinite(t);
    if (bad) throw new Error(`${label}: the ${side} value is ${bad.value} at flat index ${bad.index}`);
  }
  const d = maxAbsDiff(actual, expected);
  if (!(d <= tol)) throw new Error(`${label}: max abs diff ${d} exceeds the tolerance ${tol}`);
  return d;
}

/**
 * A file under the repository's golden fixtures (fixtures/reference), found by walking up from
 * the working directory (a package folder when tests run).
 */
export function fixturePath(rel: string): string {
  for (let dir = process.cwd(); ; dir = dirname(dir)) {
    const candidate = join(dir, 'fixtures', 'reference');
    if (existsSync(candidate)) return join(candidate, rel);
    if (dirname(dir) === dir) throw new Error(`no fixtures/reference folder above ${process.cwd()}`);
  }
}

/** Every tensor of a fixture safetensors file, as tensors the caller owns. */
export function readFixture(rel: string): Map<string, tf.Tensor> {
  const reader = SafetensorsReader.open(fixturePath(rel));
  try {
    return new Map(reader.keys().map((k) => {
      const t = reader.read(k);
      return [k, tf.tensor(t.data, t.shape, t.dtype)] as const;
    }));
  } finally {
    reader.close();
  }
}

/** One entry of `buildZip`: its bytes, and how they are stored or what the directory claims. */
export interface ZipEntryContent {
  /** The entry's bytes (default empty); deflated when `deflate` is set. */
  data?: Uint8Array | string;
  deflate?: boolean;
  /** Bytes already deflated, with their inflated size and CRC-32 (for bombs too big to hold inflated). */
  deflated?: { bytes: Uint8Array; size: number; crc: number };
  /** Override the uncompressed size and CRC-32 the headers declare (crafted archives lie). */
  declaredSize?: number;
  crc?: number;
}

export type ZipContent = Uint8Array | string | ZipEntryContent;

/**
 * A zip archive for crafting checkpoints in tests, entries in the given order (pairs allow
 * duplicate names): stored, deflated, or with sizes and CRCs that lie.
 */
export function buildZip(entries: Record<string, ZipContent> | readonly (readonly [string, ZipContent])[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  const list = Array.isArray(entries) ? entries : Object.entries(entries);
  for (const [name, content] of list as [string, ZipContent][]) {
    const spec: ZipEntryContent = typeof content === 'string' || content instanceof Uint8Array ? { data: content } : content;
    const raw = Buffer.from(spec.data ?? '');
    const data = spec.deflated ? Buffer.from(spec.deflated.bytes) : spec.deflate ? zlib.deflateRawSync(raw) : raw;
    const method = spec.deflated || spec.deflate ? 8 : 0;
    const size = spec.declaredSize ?? spec.deflated?.size ?? raw.length;
    const crc = spec.crc ?? spec.deflated?.crc ?? zlib.crc32(raw) >>> 0;
    const nameBytes = Buffer.from(name);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(method, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(size, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(method, 10);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(size, 24);
    central.writeUInt16LE(nameBytes.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, nameBytes, data);
    centrals.push(central, nameBytes);
    offset += 30 + nameBytes.length + data.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  const count = list.length;
  end.writeUInt16LE(count, 8);
  end.writeUInt16LE(count, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

/**
 * A temp directory made on first use: `get()` creates it once (`mige-<prefix>-…` in the OS temp
 * folder) and returns its path; `remove()` deletes it (register it with the runner's afterAll).
 */
export function lazyTempDir(prefix: string): { get: () => string; remove: () => void } {
  let dir: string | undefined;
  return {
    get: () => (dir ??= mkdtempSync(join(tmpdir(), `mige-${prefix}-`))),
    remove: () => {
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Polls every 50 ms until `check` returns a value (not undefined); fails after `timeoutMs`, naming `what`. */
export async function eventually<T>(check: () => Promise<T | undefined> | T | undefined, timeoutMs = 30_000, what = 'condition'): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
