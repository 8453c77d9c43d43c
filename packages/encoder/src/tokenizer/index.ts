/** The T5 tokenizer: tokenizer.json or spiece.model (converted as transformers 4.33 did). */
export { T5Tokenizer, type EncodeOptions } from './t5-tokenizer.js';
export { PrecompiledCharsmap } from './precompiled-charsmap.js';
export { t5TokenizerJsonFromSentencePiece, T5_EXTRA_IDS } from './convert-sentencepiece.js';
export {
  parseSentencePieceModel,
  PieceType,
  SpmModelType,
  type SentencePiece,
  type SentencePieceModel,
  type TrainerSpec,
  type NormalizerSpec,
} from './sentencepiece-model.js';
export type { T5TokenizerJson, AddedTokenJson, NormalizerJson, MetaspaceJson, TemplateProcessingJson, UnigramJson } from './tokenizer-json.js';
