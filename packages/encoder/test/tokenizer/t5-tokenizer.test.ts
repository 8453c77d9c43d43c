import { readFileSync } from 'node:fs';
import { MigeInputError } from '@mige/core';
import { describe, expect, it } from 'vitest';
import { buildPrompt, splitSegments } from '../../src/instruction/index.js';
import { T5Tokenizer } from '../../src/tokenizer/index.js';
import { spieceModelPath, t5Ids, tokenizerJsonPath } from './t5-fixture.js';

const ids = t5Ids();
const loaders = {
  'tokenizer.json': () => T5Tokenizer.fromTokenizerJson(tokenizerJsonPath()),
  'spiece.model': () => T5Tokenizer.fromSentencePieceModel(spieceModelPath()),
};

describe.each(Object.entries(loaders))('T5Tokenizer from %s', (_name, load) => {
  const tokenizer = load();

  it('has 2100 ids with the added tokens', () => expect(tokenizer.vocabSize).toBe(2100));

  it('has the 34 fixture cases', () => expect(ids.cases).toHaveLength(34));

  it.each(ids.cases.map((c) => [c.text, c] as const))('encodes %j', (text, c) => {
    expect(tokenizer.encode(text, { addSpecialTokens: false })).toEqual(c.ids_no_special);
    expect(tokenizer.encode(text, { addSpecialTokens: true })).toEqual(c.ids_with_special);
    expect(tokenizer.encode(text)).toEqual(c.ids_with_special);
  });

  it.each(ids.mige_get_context_emb_segments.map((c) => [c.prompt, c] as const))('segments of %j', (prompt, c) => {
    expect(tokenizer.encodeSegments(splitSegments(prompt))).toEqual(c.segment_ids);
    // From the raw instruction through MIGE's prompt building to ids.
    expect(tokenizer.encodeSegments(splitSegments(buildPrompt(c.raw, c.kind, 88)))).toEqual(c.segment_ids);
  });

  it('keeps MIGE whitespace behaviour: trailing ▁, absorbed leading space, " " and ""', () => {
    expect(tokenizer.encode('a dog ', { addSpecialTokens: false })).toEqual([260, 406, 277]);
    expect(tokenizer.encode(' and a cat ', { addSpecialTokens: false })).toEqual([266, 260, 407, 277]);
    expect(tokenizer.encode(' ', { addSpecialTokens: false })).toEqual([277]);
    expect(tokenizer.encode('', { addSpecialTokens: false })).toEqual([]);
    expect(tokenizer.encode('')).toEqual([1]);
  });

  it('maps special tokens inside text and a run of unknown characters to one <unk>', () => {
    expect(tokenizer.encode('<extra_id_0><extra_id_99></s>', { addSpecialTokens: false })).toEqual([2099, 2000, 1]);
    expect(tokenizer.encode('中文字符', { addSpecialTokens: false })).toEqual([277, 2]);
  });

  it('decodes back to text', () => {
    expect(tokenizer.decode([260, 333, 387, 1])).toBe('a red circle');
    expect(tokenizer.idsToTokens([260, 277])).toEqual(['▁a', '▁']);
  });
});

describe('T5Tokenizer loading errors', () => {
  it('accepts tokenizer.json text and objects', () => {
    const text = readFileSync(tokenizerJsonPath(), 'utf8');
    expect(T5Tokenizer.fromTokenizerJson(text).encode('a dog')).toEqual([260, 406, 1]);
    expect(T5Tokenizer.fromTokenizerJson(JSON.parse(text) as object).encode('a')).toEqual([260, 1]);
  });

  it('rejects missing files, bad JSON and non-Unigram models with MigeInputError', () => {
    expect(() => T5Tokenizer.fromTokenizerJson('/nonexistent/tokenizer.json')).toThrow(MigeInputError);
    expect(() => T5Tokenizer.fromTokenizerJson('{ nope')).toThrow('tokenizer.json: not valid JSON');
    expect(() => T5Tokenizer.fromTokenizerJson({ model: { type: 'BPE', vocab: {} } })).toThrow('model type BPE is not a Unigram');
    expect(() => T5Tokenizer.fromTokenizerJson({})).toThrow('no `model`');
    expect(() => T5Tokenizer.fromSentencePieceModel('/nonexistent/spiece.model')).toThrow(MigeInputError);
  });

  it('rejects non-string text', () => {
    const tokenizer = T5Tokenizer.fromTokenizerJson(tokenizerJsonPath());
    expect(() => tokenizer.encode(3 as unknown as string)).toThrow('text: expected a string, got number');
  });
});
