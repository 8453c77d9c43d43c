import { readFileSync } from 'node:fs';
import { MigeInputError } from '@mige/core';
import { describe, expect, it } from 'vitest';
import {
  PieceType,
  T5Tokenizer,
  parseSentencePieceModel,
  t5TokenizerJsonFromSentencePiece,
  type T5TokenizerJson,
} from '../../src/tokenizer/index.js';
import { spieceModelPath, tokenizerJsonPath } from './t5-fixture.js';

const spiece = new Uint8Array(readFileSync(spieceModelPath()));
const reference = JSON.parse(readFileSync(tokenizerJsonPath(), 'utf8')) as T5TokenizerJson;
const model = parseSentencePieceModel(spiece);
const converted = t5TokenizerJsonFromSentencePiece(model);

describe('parseSentencePieceModel on the fixture spiece.model', () => {
  it('reads the pieces, trainer spec and normalizer spec', () => {
    expect(model.pieces).toHaveLength(2000);
    expect(model.pieces.slice(0, 3).map((p) => [p.piece, p.type])).toEqual([
      ['<pad>', PieceType.Control],
      ['</s>', PieceType.Control],
      ['<unk>', PieceType.Unknown],
    ]);
    expect(model.pieces[3]).toEqual({ piece: '<0x00>', score: 0, type: PieceType.Byte });
    expect(model.pieces[259]).toEqual({ piece: '▁the', score: -2.3623809814453125, type: PieceType.Normal });
    expect(model.trainerSpec).toMatchObject({ modelType: 1, vocabSize: 2000, byteFallback: true, unkId: 2, eosId: 1, padId: 0, bosId: -1 });
    expect(model.normalizerSpec).toMatchObject({ name: 'nmt_nfkc', addDummyPrefix: true, removeExtraWhitespaces: true });
    expect(model.normalizerSpec.precompiledCharsmap).toHaveLength(240007);
  });
});

describe('t5TokenizerJsonFromSentencePiece equals the fixture tokenizer.json', () => {
  it('normalizer (charsmap bytes included), pre-tokenizer, decoder, post-processor', () => {
    expect(converted.normalizer).toEqual(reference.normalizer);
    expect(converted.pre_tokenizer).toEqual(reference.pre_tokenizer);
    expect(converted.decoder).toEqual(reference.decoder);
    expect(converted.post_processor).toEqual(reference.post_processor);
  });

  it('added tokens', () => {
    expect(converted.added_tokens).toHaveLength(103);
    expect(converted.added_tokens).toEqual(reference.added_tokens);
  });

  it('Unigram model: vocab order, pieces and float32 scores', () => {
    const { vocab, ...rest } = converted.model;
    const { vocab: refVocab, ...refRest } = reference.model;
    expect(rest).toEqual(refRest);
    expect(vocab).toHaveLength(2100);
    expect(vocab.map(([piece]) => piece)).toEqual(refVocab.map(([piece]) => piece));
    expect(vocab.map(([, s]) => Math.fround(s))).toEqual(refVocab.map(([, s]) => Math.fround(s)));
    // Scores are float32 widened exactly, so they also equal the JSON's doubles.
    expect(vocab.map(([, s]) => s)).toEqual(refVocab.map(([, s]) => s));
  });

  it('the whole document, key for key', () => {
    expect(converted).toEqual(reference);
    expect(Object.keys(converted)).toEqual(Object.keys(reference));
  });

  it('honours a different extra_ids count', () => {
    const json = t5TokenizerJsonFromSentencePiece(model, 2);
    expect(json.model.vocab.slice(2000)).toEqual([['<extra_id_1>', 0], ['<extra_id_0>', 0]]);
    expect(json.added_tokens.map((t) => [t.id, t.content]).slice(3)).toEqual([[2000, '<extra_id_1>'], [2001, '<extra_id_0>']]);
  });
});

/** Byte offset where the top-level pieces (field 1, length-delimited) end. */
function piecesEnd(): number {
  let pos = 0;
  while (spiece[pos] === 0x0a) {
    let length = 0;
    let shift = 0;
    pos += 1;
    for (;;) {
      const byte = spiece[pos++] ?? 0;
      length += (byte & 0x7f) * 2 ** shift;
      shift += 7;
      if ((byte & 0x80) === 0) break;
    }
    pos += length;
  }
  return pos;
}

describe('bad sentencepiece models', () => {
  it('rejects truncated files with MigeInputError naming the file', () => {
    for (const length of [1, 100, 5000, spiece.length - 1]) {
      expect(() => T5Tokenizer.fromSentencePieceModel(spiece.subarray(0, length))).toThrow(MigeInputError);
    }
    expect(() => parseSentencePieceModel(spiece.subarray(0, 100), 'x/spiece.model')).toThrow(/^x\/spiece\.model.*truncated/);
    // Cut exactly after the pieces: valid protobuf, but the specs are missing.
    expect(() => parseSentencePieceModel(spiece.subarray(0, piecesEnd()))).toThrow('no trainer_spec after 2000 pieces (truncated file?)');
  });

  it('rejects other files', () => {
    expect(() => parseSentencePieceModel(new Uint8Array(readFileSync(tokenizerJsonPath())).subarray(0, 64))).toThrow(MigeInputError);
    expect(() => parseSentencePieceModel(new Uint8Array(0))).toThrow('no vocabulary pieces');
    expect(() => parseSentencePieceModel(new Uint8Array([0x0a, 0x02, 0x18, 0x01]))).toThrow('a piece has no `piece` string');
    expect(() => parseSentencePieceModel(new Uint8Array([0x0a, 0x03, 0x0a, 0x01, 0xff]))).toThrow('not valid UTF-8');
    expect(() => parseSentencePieceModel(new Uint8Array([0x0d, 0, 0, 0, 0]))).toThrow('field 1 has wire type 5, expected 2');
  });

  it('rejects BPE models', () => {
    // One piece "a", trainer_spec { model_type: BPE, vocab_size: 1 }, an empty normalizer_spec.
    const bpe = new Uint8Array([0x0a, 0x03, 0x0a, 0x01, 0x61, 0x12, 0x04, 0x18, 0x02, 0x20, 0x01, 0x1a, 0x00]);
    expect(() => T5Tokenizer.fromSentencePieceModel(bpe)).toThrow('model_type 2 is not Unigram');
  });
});
