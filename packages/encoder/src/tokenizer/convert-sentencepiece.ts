/**
 * spiece.model → tokenizer.json, the way transformers 4.33.2's convert_slow_tokenizer builds a
 * T5TokenizerFast (T5Converter on SpmConverter). MIGE pins that release, and later releases
 * convert differently (no `Replace`, a WhitespaceSplit pre-tokenizer) and drop the trailing `▁`
 * that MIGE's segments end with, so the old recipe is reproduced here.
 */
import { MigeInputError } from '@mige/core';
import { PieceType, SpmModelType, type SentencePieceModel } from './sentencepiece-model.js';
import type { AddedTokenJson, MetaspaceJson, NormalizerJson, T5TokenizerJson } from './tokenizer-json.js';

/** T5's default `extra_ids`: sentinels `<extra_id_0>` … `<extra_id_99>`. */
export const T5_EXTRA_IDS = 100;

const METASPACE: MetaspaceJson = { type: 'Metaspace', replacement: '\u2581', prepend_scheme: 'always', split: true };

function addedToken(id: number, content: string): AddedTokenJson {
  return { id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true };
}

/** SpmConverter.normalizer: the charsmap (when present), then collapse runs of spaces. */
function normalizer(model: SentencePieceModel): NormalizerJson {
  const collapseSpaces: NormalizerJson = { type: 'Replace', pattern: { Regex: ' {2,}' }, content: ' ' };
  const charsmap = model.normalizerSpec.precompiledCharsmap;
  if (charsmap.length === 0) return { type: 'Sequence', normalizers: [collapseSpaces] };
  const precompiled: NormalizerJson = { type: 'Precompiled', precompiled_charsmap: Buffer.from(charsmap).toString('base64') };
  return { type: 'Sequence', normalizers: [precompiled, collapseSpaces] };
}

/**
 * Converts a parsed Unigram spiece model. Added (special, un-normalised) tokens are the
 * model's control and unknown pieces (`<pad>`, `</s>`, `<unk>` for T5) and the sentinels,
 * which take ids `pieces.length …` in the order `<extra_id_{n-1}>` … `<extra_id_0>`.
 */
export function t5TokenizerJsonFromSentencePiece(
  model: SentencePieceModel,
  extraIds: number = T5_EXTRA_IDS,
  where = 'spiece.model',
): T5TokenizerJson {
  if (model.trainerSpec.modelType !== SpmModelType.Unigram) {
    throw new MigeInputError(`model_type ${model.trainerSpec.modelType} is not Unigram (1); T5 uses Unigram`, where);
  }
  const { unkId } = model.trainerSpec;
  if (unkId < 0 || unkId >= model.pieces.length) throw new MigeInputError(`unk_id ${unkId} is outside the ${model.pieces.length} pieces`, where);
  const eosId = model.pieces.findIndex((p) => p.piece === '</s>');
  if (eosId < 0) throw new MigeInputError('no `</s>` piece, which the T5 post-processor appends', where);

  const vocab: [string, number][] = model.pieces.map((p) => [p.piece, p.score]);
  const added: AddedTokenJson[] = [];
  model.pieces.forEach((p, id) => {
    if (p.type === PieceType.Control || p.type === PieceType.Unknown) added.push(addedToken(id, p.piece));
  });
  for (let k = extraIds - 1; k >= 0; k--) {
    const content = `<extra_id_${k}>`;
    added.push(addedToken(vocab.length, content));
    vocab.push([content, 0]);
  }
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: normalizer(model),
    pre_tokenizer: { ...METASPACE },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '</s>', type_id: 0 } }],
      pair: [
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '</s>', type_id: 0 } },
        { Sequence: { id: 'B', type_id: 0 } },
        { SpecialToken: { id: '</s>', type_id: 0 } },
      ],
      special_tokens: { '</s>': { id: '</s>', ids: [eosId], tokens: ['</s>'] } },
    },
    decoder: { ...METASPACE },
    // byte_fallback stays false even for byte-fallback models: the 4.33 converter did not
    // carry it over, so out-of-vocabulary runs become one <unk> instead of <0xNN> bytes.
    model: { type: 'Unigram', unk_id: unkId, vocab, byte_fallback: false },
  };
}
