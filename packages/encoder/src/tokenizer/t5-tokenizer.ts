/**
 * MIGE's T5 tokenizer: a thin wrapper over @huggingface/tokenizers (pure JS) that loads either
 * a `tokenizer.json` or a sentencepiece `spiece.model` (converted as transformers 4.33 did).
 */
import { readFileSync } from 'node:fs';
import { PrecompiledNormalizer, SequenceNormalizer, Tokenizer, type Normalizer } from '@huggingface/tokenizers';
import { MigeInputError } from '@mige/core';
import { t5TokenizerJsonFromSentencePiece, T5_EXTRA_IDS } from './convert-sentencepiece.js';
import { PrecompiledCharsmap } from './precompiled-charsmap.js';
import { parseSentencePieceModel } from './sentencepiece-model.js';
import type { T5TokenizerJson } from './tokenizer-json.js';

export interface EncodeOptions {
  /** Append `</s>` (id 1) as the T5 post-processor does. Default true, as in HF. */
  addSpecialTokens?: boolean;
}

function readOrFail(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new MigeInputError(`cannot read the file (${(err as Error).message})`, path);
  }
}

/** Rejects JSON that is not a Unigram tokenizer before the library fails obscurely on it. */
function checkTokenizerJson(json: unknown, where: string): asserts json is T5TokenizerJson {
  const model = (json as { model?: { type?: unknown; vocab?: unknown } } | null)?.model;
  if (typeof json !== 'object' || json === null || model === undefined) {
    throw new MigeInputError('not a tokenizer.json (no `model`)', where);
  }
  if (model.type !== 'Unigram' || !Array.isArray(model.vocab)) {
    throw new MigeInputError(`model type ${String(model.type)} is not a Unigram vocabulary (T5 uses Unigram)`, where);
  }
}

/**
 * @huggingface/tokenizers 0.2.0 ignores the precompiled charsmap and approximates nmt_nfkc
 * (NFKC + regexes). That matches every fixture case but not HF tokenizers elsewhere: it turns
 * ZWJ (U+200D, inside emoji sequences) into a space and differs on Hangul jamo, half-width kana
 * and graphemes the table maps as a whole. So each Precompiled step gets the real table lookup.
 */
function useExactCharsmaps(normalizer: Normalizer | null, where: string): void {
  if (normalizer instanceof SequenceNormalizer) {
    for (const child of normalizer.normalizers) useExactCharsmaps(child, where);
  } else if (normalizer instanceof PrecompiledNormalizer) {
    const base64: unknown = normalizer.charsmap;
    if (typeof base64 !== 'string') throw new MigeInputError('a Precompiled normalizer has no precompiled_charsmap', where);
    const exact = PrecompiledCharsmap.fromBase64(base64, `${where} precompiled_charsmap`);
    normalizer.normalize = (text: string): string => exact.normalize(text);
  }
}

export class T5Tokenizer {
  static readonly PAD_ID = 0;
  static readonly EOS_ID = 1;
  static readonly UNK_ID = 2;

  private readonly tokenizer: Tokenizer;

  private constructor(
    /** The tokenizer.json this tokenizer runs (converted when loaded from spiece.model). */
    readonly json: T5TokenizerJson,
    where: string,
  ) {
    try {
      this.tokenizer = new Tokenizer(json, {});
    } catch (err) {
      throw new MigeInputError(`the tokenizer library rejected it: ${(err as Error).message}`, where);
    }
    useExactCharsmaps(this.tokenizer.normalizer, where);
  }

  /** From a `tokenizer.json` path, its text, or its parsed object. */
  static fromTokenizerJson(pathOrJson: string | object): T5Tokenizer {
    const isText = typeof pathOrJson === 'string' && pathOrJson.trimStart().startsWith('{');
    const where = typeof pathOrJson === 'string' && !isText ? pathOrJson : 'tokenizer.json';
    let json: unknown = pathOrJson;
    if (typeof pathOrJson === 'string') {
      const text = isText ? pathOrJson : readOrFail(pathOrJson).toString('utf8');
      try {
        json = JSON.parse(text);
      } catch (err) {
        throw new MigeInputError(`not valid JSON (${(err as Error).message})`, where);
      }
    }
    checkTokenizerJson(json, where);
    return new T5Tokenizer(json, where);
  }

  /** From a sentencepiece `spiece.model` (path or bytes), converted like transformers 4.33.2. */
  static fromSentencePieceModel(pathOrBytes: string | Uint8Array, extraIds: number = T5_EXTRA_IDS): T5Tokenizer {
    const where = typeof pathOrBytes === 'string' ? pathOrBytes : 'spiece.model';
    const bytes = typeof pathOrBytes === 'string' ? readOrFail(pathOrBytes) : pathOrBytes;
    const model = parseSentencePieceModel(bytes, where);
    return new T5Tokenizer(t5TokenizerJsonFromSentencePiece(model, extraIds, where), where);
  }

  /** Token ids of `text`. Special-token strings in `text` (`</s>`, `<extra_id_0>`) map to their ids. */
  encode(text: string, options: EncodeOptions = {}): number[] {
    if (typeof text !== 'string') throw new MigeInputError(`expected a string, got ${typeof text}`, 'text');
    return this.tokenizer.encode(text, { add_special_tokens: options.addSpecialTokens ?? true }).ids;
  }

  /** The normalizer's output (charsmap, then runs of spaces collapsed), before Metaspace. */
  normalize(text: string): string {
    return this.tokenizer.normalizer?.normalize(text) ?? text;
  }

  /** Encodes each segment without special tokens, as `get_context_emb` does. */
  encodeSegments(segments: readonly string[]): number[][] {
    return segments.map((segment) => this.encode(segment, { addSpecialTokens: false }));
  }

  /** The pieces of `ids`, for debugging. */
  idsToTokens(ids: readonly number[]): string[] {
    return ids.map((id) => this.tokenizer.id_to_token(id) ?? '<unk>');
  }

  decode(ids: readonly number[], skipSpecialTokens = true): string {
    return this.tokenizer.decode([...ids], { skip_special_tokens: skipSpecialTokens });
  }

  /** Vocabulary size including the added tokens (2100 for MIGE's fixtures, 32100 for T5). */
  get vocabSize(): number {
    return this.tokenizer.get_vocab(true).size;
  }
}
