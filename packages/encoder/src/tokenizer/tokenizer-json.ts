/** The subset of the HF `tokenizer.json` schema a T5 (Unigram) tokenizer uses. */

export interface AddedTokenJson {
  id: number;
  content: string;
  single_word: boolean;
  lstrip: boolean;
  rstrip: boolean;
  normalized: boolean;
  special: boolean;
}

export type NormalizerJson =
  | { type: 'Sequence'; normalizers: NormalizerJson[] }
  /** Base64 of sentencepiece's precompiled charsmap. */
  | { type: 'Precompiled'; precompiled_charsmap: string }
  | { type: 'Replace'; pattern: { Regex: string } | { String: string }; content: string };

export interface MetaspaceJson {
  type: 'Metaspace';
  replacement: string;
  prepend_scheme: 'always' | 'first' | 'never';
  split: boolean;
}

type TemplatePiece = { Sequence: { id: 'A' | 'B'; type_id: number } } | { SpecialToken: { id: string; type_id: number } };

export interface TemplateProcessingJson {
  type: 'TemplateProcessing';
  single: TemplatePiece[];
  pair: TemplatePiece[];
  special_tokens: Record<string, { id: string; ids: number[]; tokens: string[] }>;
}

export interface UnigramJson {
  type: 'Unigram';
  unk_id: number | null;
  vocab: [string, number][];
  byte_fallback: boolean;
}

export interface T5TokenizerJson {
  version: string;
  truncation: null;
  padding: null;
  added_tokens: AddedTokenJson[];
  normalizer: NormalizerJson | null;
  pre_tokenizer: MetaspaceJson;
  post_processor: TemplateProcessingJson;
  decoder: MetaspaceJson;
  model: UnigramJson;
}
