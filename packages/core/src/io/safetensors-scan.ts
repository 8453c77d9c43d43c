/**
 * One linear pass over a safetensors header's raw bytes, before it is decoded or parsed: it
 * bounds what JSON.parse will allocate and counts keys for the duplicate check.
 *
 * A header is `{name: {dtype, shape: [..], data_offsets: [..]}, "__metadata__": {k: v}}`: objects
 * two levels deep at most, arrays of numbers only, and short (torch tensors have at most 64
 * dims). Anything nested deeper (a 100 MB `[[[[…` would make JSON.parse build millions of arrays)
 * is refused here, as is a header with more entries than the limit. The scan does not validate
 * JSON: JSON.parse does that next, on input whose size and shape are now known to be sane.
 */
export interface HeaderScan {
  /** Top-level keys plus the keys of `__metadata__`. */
  entries: number;
  /** Every object key in the header (JSON.parse keeps one of each duplicate, so fewer means duplicates). */
  keys: number;
}

/** torch's limit on tensor dims, and so on a shape's length. */
export const MAX_HEADER_ARRAY_ITEMS = 64;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const METADATA = Buffer.from('__metadata__');

/** Index of the closing quote of the string starting at `start` (a quote), or bytes.length. */
function stringEnd(bytes: Uint8Array, start: number): number {
  let i = start + 1;
  while (i < bytes.length) {
    const c = bytes[i] as number;
    if (c === BACKSLASH) i += 2;
    else if (c === QUOTE) return i;
    else i += 1;
  }
  return bytes.length;
}

function isMetadataKey(bytes: Uint8Array, start: number, end: number): boolean {
  if (end - start - 1 !== METADATA.length) return false;
  for (let k = 0; k < METADATA.length; k++) if (bytes[start + 1 + k] !== METADATA[k]) return false;
  return true;
}

export function scanSafetensorsHeader(bytes: Uint8Array, maxEntries: number, fail: (message: string) => never): HeaderScan {
  // The open containers: true for an object, false for an array (never more than three).
  const open: boolean[] = [];
  let expectKey = false;
  let keys = 0;
  let entries = 0;
  let topKeyIsMetadata = false;
  let inMetadata = false;
  let items = 0;
  const countEntry = (): void => {
    if (++entries > maxEntries) {
      fail(`the header has more than ${maxEntries} entries (tensors and metadata keys; maxObjects): pass a larger maxObjects for a file you trust`);
    }
  };
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i] as number;
    const inObject = open[open.length - 1] === true;
    if (c === QUOTE) {
      const end = stringEnd(bytes, i);
      if (inObject && expectKey) {
        keys++;
        if (open.length === 1) {
          countEntry();
          topKeyIsMetadata = isMetadataKey(bytes, i, end);
        } else if (inMetadata) {
          countEntry();
        }
        expectKey = false;
      }
      i = end;
    } else if (c === 0x7b /* { */) {
      if (open.length >= 2 || (open.length > 0 && !inObject)) {
        fail('the header nests objects deeper than a safetensors header can ({name: {dtype, shape, data_offsets}} or __metadata__: {key: value})');
      }
      inMetadata = open.length === 1 && topKeyIsMetadata;
      open.push(true);
      expectKey = true;
    } else if (c === 0x5b /* [ */) {
      if (open.length > 0 && !inObject) fail('an array in the header holds another array: shapes and data_offsets hold numbers only');
      if (open.length >= 3) fail('the header nests arrays deeper than a safetensors header can');
      open.push(false);
      items = 0;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      open.pop();
      expectKey = false;
    } else if (c === 0x2c /* , */) {
      if (inObject) expectKey = true;
      else if (open.length > 0 && ++items >= MAX_HEADER_ARRAY_ITEMS) {
        fail(`an array in the header has more than ${MAX_HEADER_ARRAY_ITEMS} items: a shape has at most ${MAX_HEADER_ARRAY_ITEMS} dims, data_offsets 2`);
      }
    }
  }
  return { entries, keys };
}
