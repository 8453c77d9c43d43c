import { readFileSync } from 'node:fs';
import { PrecompiledNormalizer } from '@huggingface/tokenizers';
import { MigeInputError } from '@mige/core';
import { describe, expect, it } from 'vitest';
import { PrecompiledCharsmap, T5Tokenizer, parseSentencePieceModel } from '../../src/tokenizer/index.js';
import { spieceModelPath, t5Ids, tokenizerJsonPath } from './t5-fixture.js';

const charsmap = new PrecompiledCharsmap(parseSentencePieceModel(new Uint8Array(readFileSync(spieceModelPath()))).normalizerSpec.precompiledCharsmap);
const collapse = (text: string): string => text.replace(/ {2,}/g, ' ');

describe('PrecompiledCharsmap (nmt_nfkc table of the fixture spiece.model)', () => {
  it.each(t5Ids().cases.map((c) => [c.text, c.normalized] as const))('normalizes %j as the fixture', (text, normalized) => {
    expect(collapse(charsmap.normalize(text))).toBe(normalized);
  });

  it('maps NFKC forms, spaces and control characters', () => {
    expect(charsmap.normalize('ﬁne ＡＢＣ１２３ Ⅳ ① …')).toBe('fine ABC123 IV 1 ...');
    expect(charsmap.normalize('a\tb\nc\u00a0d\u200be\u3000f\ufeffg')).toBe('a b c d e f g');
    expect(charsmap.normalize('\u0007bell')).toBe('bell');
  });

  it('follows HF tokenizers where the JS library approximates', () => {
    const library = new PrecompiledNormalizer({ type: 'Precompiled', precompiled_charsmap: '' });
    // ZWJ inside emoji sequences is kept (the library makes it a space).
    expect(charsmap.normalize('👨‍👩‍👧')).toBe('👨‍👩‍👧');
    expect(library.normalize('👨‍👩‍👧')).toBe('👨 👩 👧');
    // Half-width kana + sound mark is a 6-byte grapheme, so it maps char by char and stays
    // decomposed (カ U+3099); the library's NFKC composes it to ガ U+30AC.
    expect(charsmap.normalize('ｶﾞ')).toBe('\u30ab\u3099');
    expect(library.normalize('ｶﾞ')).toBe('\u30ac');
    // The shortest matching rule replaces a whole grapheme under 6 bytes, so the accent on ﬁ
    // is lost: HF's Precompiled does this too ("Yes, this seems broken" in its source).
    expect(charsmap.normalize('ﬁ\u0301')).toBe('fi');
  });

  it('rejects malformed tables', () => {
    expect(() => new PrecompiledCharsmap(new Uint8Array(2))).toThrow(MigeInputError);
    expect(() => new PrecompiledCharsmap(new Uint8Array([8, 0, 0, 0, 1, 2]))).toThrow('trie size 8 does not fit the 6-byte charsmap');
  });
});

describe('T5Tokenizer uses the exact table', () => {
  it.each(Object.entries({
    'tokenizer.json': () => T5Tokenizer.fromTokenizerJson(tokenizerJsonPath()),
    'spiece.model': () => T5Tokenizer.fromSentencePieceModel(spieceModelPath()),
  }))('from %s', (_name, load) => {
    const tokenizer = load();
    for (const c of t5Ids().cases) expect(tokenizer.normalize(c.text)).toBe(c.normalized);
    expect(tokenizer.normalize('a\u200db')).toBe('a\u200db');
  });
});
