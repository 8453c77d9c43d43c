import { MigeInputError } from '../errors.js';
import type { ByteSource } from './byte-source.js';
import { ITEM_SIZE, SAFETENSORS_DTYPES, isSafetensorsDType } from './dtype-codec.js';
import { findDuplicateJsonKey } from './json-duplicate-keys.js';
import { checkLimit, DEFAULT_MAX_HEADER_ENTRIES, type LoadLimits } from './load-limits.js';
import { scanSafetensorsHeader } from './safetensors-scan.js';
import type { TensorInfo } from './tensor-types.js';

/** The header-size bound of the reference (Rust) implementation. */
export const DEFAULT_MAX_HEADER_BYTES = 100_000_000;

/** Header and memory limits (LoadLimits: maxObjects counts header entries, maxBytes decoded bytes). */
export interface SafetensorsOpenOptions extends LoadLimits {
  /** Refuse headers larger than this many bytes, before allocating them (default 100 MB, as the reference). */
  maxHeaderBytes?: number;
}

export interface SafetensorsHeader {
  metadata: Record<string, string>;
  /** In file order (by data offset). */
  tensors: TensorInfo[];
  /** Absolute offset of the data section (8 + header length). */
  dataStart: number;
}

type Fail = (message: string) => never;

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `${typeof value} ${JSON.stringify(value)}`;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isOffset(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function readHeaderText(source: ByteSource, maxHeaderBytes: number, maxEntries: number, fail: Fail): { text: string; dataStart: number; keys: number } {
  if (source.size < 8) fail(`file is ${source.size} bytes, too short for the 8-byte header length`);
  const prefix = source.read(0, 8);
  const length = new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true);
  if (length === 0n) fail('header length is 0');
  // Checked as bigint before any allocation: the declared length may be up to 2^64 - 1.
  if (length > BigInt(maxHeaderBytes)) fail(`header length ${length} exceeds the limit of ${maxHeaderBytes} bytes`);
  if (length > BigInt(source.size - 8)) fail(`header length ${length} exceeds the file size (${source.size} bytes)`);
  const n = Number(length);
  const bytes = source.read(8, n);
  const { keys } = scanSafetensorsHeader(bytes, maxEntries, fail);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return fail('header is not valid UTF-8');
  }
  return { text, dataStart: 8 + n, keys };
}

function parseJson(text: string, fail: Fail): Record<string, unknown> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    fail(`header is not valid JSON (${(error as Error).message})`);
  }
  if (!isPlainObject(json)) fail(`header JSON must be an object, got ${describe(json)}`);
  return json;
}

/**
 * JSON.parse keeps the last of duplicate keys silently; the scan counted every key, so fewer
 * keys after parsing means a duplicate, which the (slower) text walk then names.
 */
function checkDuplicates(text: string, parsedKeys: number, scannedKeys: number, fail: Fail): void {
  if (parsedKeys === scannedKeys) return;
  const duplicate = findDuplicateJsonKey(text);
  const inside = duplicate?.path.length ? ` inside '${duplicate.path.join('.')}'` : '';
  fail(duplicate ? `duplicate key '${duplicate.key}'${inside} in header` : 'duplicate keys in header');
}

function parseMetadata(value: unknown, fail: Fail): Record<string, string> {
  if (!isPlainObject(value)) fail(`__metadata__ must be an object mapping strings to strings, got ${describe(value)}`);
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string') fail(`__metadata__ must map strings to strings, but '${k}' is ${describe(v)}`);
  }
  return value as Record<string, string>;
}

function parseEntry(name: string, entry: unknown, dataStart: number, dataLength: number, maxElements: number | undefined, fail: Fail): TensorInfo {
  const bad = (message: string): never => fail(`tensor '${name}': ${message}`);
  if (!isPlainObject(entry)) bad(`entry must be an object, got ${describe(entry)}`);
  const { dtype, shape, data_offsets: offsets } = entry as Record<string, unknown>;
  if (dtype === undefined) bad('missing dtype');
  if (!isSafetensorsDType(dtype))
    bad(`unsupported dtype ${describe(dtype)} (supported: ${SAFETENSORS_DTYPES.join(', ')})`);
  if (!Array.isArray(shape) || !shape.every(isOffset)) {
    bad(`shape must be an array of non-negative safe integers, got ${JSON.stringify(shape)}`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isOffset)) {
    bad(`data_offsets must be [begin, end] with non-negative safe integers, got ${JSON.stringify(offsets)}`);
  }
  const [begin, end] = offsets as [number, number];
  if (begin > end) bad(`data_offsets begin ${begin} > end ${end}`);
  if (end > dataLength) bad(`data_offsets [${begin}, ${end}] out of range of the ${dataLength}-byte data section`);
  // Plain numbers while exact; a shape like [2^40, 2^40] leaves the safe integers and is
  // recomputed as a bigint for the message: it must fail here, not overflow or allocate.
  let numel = 1;
  for (const d of shape as number[]) numel *= d;
  const expected = numel * ITEM_SIZE[dtype as keyof typeof ITEM_SIZE];
  if (!Number.isSafeInteger(expected) || expected !== end - begin) {
    const exact = (shape as number[]).reduce((acc, d) => acc * BigInt(d), 1n) * BigInt(ITEM_SIZE[dtype as keyof typeof ITEM_SIZE]);
    bad(`byte length ${end - begin} does not match shape [${(shape as number[]).join(', ')}] x ${dtype} (${exact} bytes)`);
  }
  if (maxElements !== undefined && numel > maxElements) bad(`${numel} elements, over the limit maxElements=${maxElements}`);
  return {
    name,
    dtype: dtype as TensorInfo['dtype'],
    shape: shape as number[],
    byteOffset: dataStart + begin,
    byteLength: end - begin,
  };
}

/**
 * Like the reference implementation, the tensors must tile the data section exactly: no
 * overlaps (aliased tensors), no holes and no trailing bytes. Holes could hide data a writer
 * would silently drop, and the official reader rejects such files too.
 */
function checkCoverage(tensors: TensorInfo[], dataStart: number, dataLength: number, fail: Fail): TensorInfo[] {
  const sorted = [...tensors].sort((a, b) => a.byteOffset - b.byteOffset || a.byteLength - b.byteLength);
  let cursor = dataStart;
  let previous: TensorInfo | undefined;
  const range = (t: TensorInfo): string => `[${t.byteOffset - dataStart}, ${t.byteOffset - dataStart + t.byteLength}]`;
  for (const t of sorted) {
    if (t.byteOffset < cursor && previous) {
      fail(`tensors '${previous.name}' ${range(previous)} and '${t.name}' ${range(t)} overlap`);
    }
    if (t.byteOffset > cursor) {
      const after = previous ? `after '${previous.name}'` : 'at the start of the data section';
      fail(`gap of ${t.byteOffset - cursor} bytes ${after}, before '${t.name}' ${range(t)}`);
    }
    cursor = t.byteOffset + t.byteLength;
    previous = t;
  }
  if (cursor !== dataStart + dataLength) {
    fail(
      `${dataStart + dataLength - cursor} trailing bytes at the end of the data section are not covered by any tensor`,
    );
  }
  return sorted;
}

/** Reads and validates the header; reads only the first 8 + N bytes of `source`. */
export function readSafetensorsHeader(source: ByteSource, options: SafetensorsOpenOptions = {}): SafetensorsHeader {
  const fail: Fail = (message) => {
    throw new MigeInputError(message, source.where);
  };
  const maxHeaderBytes = checkLimit(options.maxHeaderBytes, 'maxHeaderBytes', source.where) ?? DEFAULT_MAX_HEADER_BYTES;
  const maxEntries = checkLimit(options.maxObjects, 'maxObjects', source.where) ?? DEFAULT_MAX_HEADER_ENTRIES;
  const maxElements = checkLimit(options.maxElements, 'maxElements', source.where);
  const { text, dataStart, keys } = readHeaderText(source, maxHeaderBytes, maxEntries, fail);
  const json = parseJson(text, fail);
  const dataLength = source.size - dataStart;
  let metadata: Record<string, string> = {};
  const tensors: TensorInfo[] = [];
  let parsedKeys = 0;
  for (const name of Object.keys(json)) {
    const entry = json[name];
    parsedKeys += 1 + (isPlainObject(entry) ? Object.keys(entry).length : 0);
    if (name === '__metadata__') metadata = parseMetadata(entry, fail);
    else tensors.push(parseEntry(name, entry, dataStart, dataLength, maxElements, fail));
  }
  checkDuplicates(text, parsedKeys, keys, fail);
  return { metadata, tensors: checkCoverage(tensors, dataStart, dataLength, fail), dataStart };
}
