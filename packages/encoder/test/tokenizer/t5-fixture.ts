/** Typed access to fixtures/reference/t5_tokenizer/ids.json and mige_encoder_e2e/config.json. */
import { readFileSync } from 'node:fs';
import { fixturePath } from '@mige/core/testing';

export interface TokenizerCase {
  text: string;
  ids_no_special: number[];
  ids_with_special: number[];
  normalized: string;
}

export interface SegmentsCase {
  raw: string;
  kind: 'subject' | 'edit' | 'raw';
  prompt: string;
  segments: string[];
  segment_ids: number[][];
  segment_ids_with_eos: number[][];
  num_images: number;
}

export interface T5Ids {
  cases: TokenizerCase[];
  mige_get_context_emb_segments: SegmentsCase[];
  blip_caption_pre_caption: { input: string; output: string }[];
}

export interface E2eSegments {
  prompt: string;
  segments: string[];
  segment_ids_with_eos: number[][];
  mixed_length: number;
  branch: 'padded' | 'truncated';
}

export interface E2eConfig {
  prompts: string[];
  images_per_prompt: number[];
  max_len: number;
  segments: E2eSegments[];
}

function readJson<T>(rel: string): T {
  return JSON.parse(readFileSync(fixturePath(rel), 'utf8')) as T;
}

export const t5Ids = (): T5Ids => readJson<T5Ids>('t5_tokenizer/ids.json');
export const e2eConfig = (): E2eConfig => readJson<E2eConfig>('mige_encoder_e2e/config.json');
export const tokenizerJsonPath = (): string => fixturePath('t5_tokenizer/tokenizer.json');
export const spieceModelPath = (): string => fixturePath('t5_tokenizer/spiece.model');
