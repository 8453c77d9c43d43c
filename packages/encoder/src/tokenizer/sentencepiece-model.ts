/**
 * The parts of sentencepiece's ModelProto (sentencepiece_model.proto) that the T5 conversion
 * reads. Field numbers are the proto's; defaults are the proto's declared defaults.
 */
import { MigeInputError } from '@mige/core';
import { ProtoReader, WireType } from './proto-reader.js';

/** SentencePiece.Type. */
export const PieceType = { Normal: 1, Unknown: 2, Control: 3, UserDefined: 4, Unused: 5, Byte: 6 } as const;

/** TrainerSpec.ModelType. */
export const SpmModelType = { Unigram: 1, Bpe: 2, Word: 3, Char: 4 } as const;

export interface SentencePiece {
  piece: string;
  /** A float32 in the file, widened exactly. */
  score: number;
  type: number;
}

export interface TrainerSpec {
  modelType: number;
  vocabSize: number;
  byteFallback: boolean;
  unkId: number;
  bosId: number;
  eosId: number;
  padId: number;
}

export interface NormalizerSpec {
  name: string;
  precompiledCharsmap: Uint8Array;
  addDummyPrefix: boolean;
  removeExtraWhitespaces: boolean;
  escapeWhitespaces: boolean;
}

export interface SentencePieceModel {
  pieces: SentencePiece[];
  trainerSpec: TrainerSpec;
  normalizerSpec: NormalizerSpec;
}

function readPiece(bytes: Uint8Array, where: string): SentencePiece {
  const r = new ProtoReader(bytes, where);
  let piece: string | undefined;
  let score = 0;
  let type: number = PieceType.Normal;
  while (!r.done) {
    const tag = r.tag();
    if (tag.field === 1) {
      r.expect(tag, WireType.LengthDelimited);
      piece = r.string();
    } else if (tag.field === 2) {
      r.expect(tag, WireType.Fixed32);
      score = r.float();
    } else if (tag.field === 3) {
      r.expect(tag, WireType.Varint);
      type = r.int32();
    } else r.skip(tag);
  }
  if (piece === undefined) throw new MigeInputError('a piece has no `piece` string', where);
  return { piece, score, type };
}

function readTrainerSpec(bytes: Uint8Array, where: string): TrainerSpec {
  const r = new ProtoReader(bytes, where);
  const spec: TrainerSpec = { modelType: SpmModelType.Unigram, vocabSize: 8000, byteFallback: false, unkId: 0, bosId: 1, eosId: 2, padId: -1 };
  const int32Fields: Partial<Record<number, keyof TrainerSpec>> = { 3: 'modelType', 4: 'vocabSize', 40: 'unkId', 41: 'bosId', 42: 'eosId', 43: 'padId' };
  while (!r.done) {
    const tag = r.tag();
    const key = int32Fields[tag.field];
    if (key !== undefined) {
      r.expect(tag, WireType.Varint);
      (spec as unknown as Record<string, number>)[key] = r.int32();
    } else if (tag.field === 35) {
      r.expect(tag, WireType.Varint);
      spec.byteFallback = r.bool();
    } else r.skip(tag);
  }
  return spec;
}

function readNormalizerSpec(bytes: Uint8Array, where: string): NormalizerSpec {
  const r = new ProtoReader(bytes, where);
  const spec: NormalizerSpec = {
    name: '',
    precompiledCharsmap: new Uint8Array(0),
    addDummyPrefix: true,
    removeExtraWhitespaces: true,
    escapeWhitespaces: true,
  };
  while (!r.done) {
    const tag = r.tag();
    switch (tag.field) {
      case 1:
        r.expect(tag, WireType.LengthDelimited);
        spec.name = r.string();
        break;
      case 2:
        r.expect(tag, WireType.LengthDelimited);
        spec.precompiledCharsmap = r.bytesField();
        break;
      case 3:
        r.expect(tag, WireType.Varint);
        spec.addDummyPrefix = r.bool();
        break;
      case 4:
        r.expect(tag, WireType.Varint);
        spec.removeExtraWhitespaces = r.bool();
        break;
      case 5:
        r.expect(tag, WireType.Varint);
        spec.escapeWhitespaces = r.bool();
        break;
      default:
        r.skip(tag);
    }
  }
  return spec;
}

/** Parses a `spiece.model` file's bytes; `where` (the path) is named in every error. */
export function parseSentencePieceModel(bytes: Uint8Array, where = 'spiece.model'): SentencePieceModel {
  const r = new ProtoReader(bytes, where);
  const pieces: SentencePiece[] = [];
  let trainerSpec: TrainerSpec | undefined;
  let normalizerSpec: NormalizerSpec | undefined;
  while (!r.done) {
    const tag = r.tag();
    if (tag.field === 1) {
      r.expect(tag, WireType.LengthDelimited);
      pieces.push(readPiece(r.bytesField(), `${where} pieces[${pieces.length}]`));
    } else if (tag.field === 2) {
      r.expect(tag, WireType.LengthDelimited);
      trainerSpec = readTrainerSpec(r.bytesField(), `${where} trainer_spec`);
    } else if (tag.field === 3) {
      r.expect(tag, WireType.LengthDelimited);
      normalizerSpec = readNormalizerSpec(r.bytesField(), `${where} normalizer_spec`);
    } else r.skip(tag);
  }
  if (pieces.length === 0) throw new MigeInputError('no vocabulary pieces (not a sentencepiece model?)', where);
  // Real model files always carry both specs after the pieces; a file cut at a piece
  // boundary is still valid protobuf, so their absence is how truncation shows.
  if (trainerSpec === undefined || normalizerSpec === undefined) {
    throw new MigeInputError(`no ${trainerSpec === undefined ? 'trainer_spec' : 'normalizer_spec'} after ${pieces.length} pieces (truncated file?)`, where);
  }
  if (trainerSpec.vocabSize !== pieces.length) {
    throw new MigeInputError(`trainer_spec.vocab_size is ${trainerSpec.vocabSize} but the file holds ${pieces.length} pieces (truncated file?)`, where);
  }
  return { pieces, trainerSpec, normalizerSpec };
}
