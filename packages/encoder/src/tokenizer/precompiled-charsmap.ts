/**
 * sentencepiece's precompiled normalisation table (`normalizer_spec.precompiled_charsmap`),
 * applied exactly as HF tokenizers' `Precompiled` normalizer (crate spm_precompiled) does.
 * @huggingface/tokenizers ignores the table and approximates nmt_nfkc with NFKC plus a few
 * regexes; this is the real lookup, so custom tables and odd characters also come out right.
 *
 * Layout: u32 LE trie size in bytes, the darts-clone double-array trie (u32 units) mapping
 * UTF-8 keys to offsets, then NUL-terminated UTF-8 replacement strings.
 */
import { MigeInputError } from '@mige/core';

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });
const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

export class PrecompiledCharsmap {
  private readonly trie: Uint32Array;
  private readonly normalized: Uint8Array;
  private readonly cache = new Map<string, string | null>();

  constructor(charsmap: Uint8Array, where = 'precompiled_charsmap') {
    if (charsmap.length < 4) throw new MigeInputError(`${charsmap.length} bytes is too short for a charsmap`, where);
    const view = new DataView(charsmap.buffer, charsmap.byteOffset, charsmap.byteLength);
    const trieSize = view.getUint32(0, true);
    if (trieSize % 4 !== 0 || trieSize === 0 || 4 + trieSize > charsmap.length) {
      throw new MigeInputError(`trie size ${trieSize} does not fit the ${charsmap.length}-byte charsmap`, where);
    }
    this.trie = new Uint32Array(trieSize / 4);
    for (let i = 0; i < this.trie.length; i++) this.trie[i] = view.getUint32(4 + 4 * i, true);
    this.normalized = charsmap.subarray(4 + trieSize);
  }

  static fromBase64(base64: string, where?: string): PrecompiledCharsmap {
    return new PrecompiledCharsmap(new Uint8Array(Buffer.from(base64, 'base64')), where);
  }

  private unit(pos: number): number {
    // An out-of-range position means the key is not in the trie; 0 never matches a label.
    return this.trie[pos] ?? 0;
  }

  /** Offsets of the replacements of every prefix of `key` that is in the table, shortest first. */
  private commonPrefixSearch(key: Uint8Array): number[] {
    const results: number[] = [];
    let unit = this.unit(0);
    let pos = offset(unit);
    for (const byte of key) {
      if (byte === 0) break;
      pos ^= byte;
      unit = this.unit(pos);
      if ((unit & 0x800000ff) >>> 0 !== byte) return results;
      pos ^= offset(unit);
      if (((unit >>> 8) & 1) === 1) results.push(this.unit(pos) & 0x7fffffff);
    }
    return results;
  }

  /** The replacement of `chunk` (the shortest matching prefix, as spm_precompiled takes). */
  transform(chunk: string): string | undefined {
    const cached = this.cache.get(chunk);
    if (cached !== undefined) return cached ?? undefined;
    const [start] = this.commonPrefixSearch(utf8Encoder.encode(chunk));
    let result: string | null = null;
    if (start !== undefined && start < this.normalized.length) {
      let end = start;
      while (end < this.normalized.length && this.normalized[end] !== 0) end++;
      result = utf8Decoder.decode(this.normalized.subarray(start, end));
    }
    this.cache.set(chunk, result);
    return result ?? undefined;
  }

  /** Whole graphemes under 6 UTF-8 bytes first, else character by character. */
  normalize(text: string): string {
    let out = '';
    for (const { segment } of graphemes.segment(text)) {
      if (utf8Encoder.encode(segment).length < 6) {
        const whole = this.transform(segment);
        if (whole !== undefined) {
          out += whole;
          continue;
        }
      }
      for (const char of segment) out += this.transform(char) ?? char;
    }
    return out;
  }
}

/** darts-clone: where a unit's children start, relative to its own position. */
function offset(unit: number): number {
  return ((unit >>> 10) << ((unit & (1 << 9)) >>> 6)) >>> 0;
}
