import { MigeInputError } from '@mige/core';
import type { DitConfig } from '@mige/dit';
import type { EvaViTConfig, MigeEncoderConfig, QFormerConfig, T5EncoderConfig } from '@mige/encoder';
import type { FfmConfig } from '@mige/fusion';
import type { AutoencoderKLConfig } from '@mige/vae';
import { backboneTypes, isDitConfig, type BackboneConfig } from './backbones.js';
import { validateMigeConfig, type MigeConfig } from './config.js';

/**
 * Reads a MigeConfig from JSON (a model folder's config.json): every field of every component
 * must be present with the right JSON type and nothing else may be, so a typo is an error
 * naming its path (`config.backbone.hiddenSize`) instead of a silently different model.
 */

type Field = 'number' | 'boolean' | 'string' | { enum: readonly string[] } | { array: Field } | { object: Schema };
type Schema = Record<string, Field>;
/** Listing every key of T, so a field added to a component config fails to compile here. */
type SchemaOf<T> = Record<keyof T, Field>;

const VISION: SchemaOf<EvaViTConfig> = { imgSize: 'number', patchSize: 'number', embedDim: 'number', depth: 'number', numHeads: 'number', mlpRatio: 'number' };
const QFORMER: SchemaOf<QFormerConfig> = {
  hiddenSize: 'number', numLayers: 'number', numHeads: 'number', intermediateSize: 'number',
  encoderWidth: 'number', crossAttentionFreq: 'number', numQueryTokens: 'number', layerNormEps: 'number',
};
const T5: SchemaOf<T5EncoderConfig> = {
  vocabSize: 'number', dModel: 'number', dKv: 'number', dFf: 'number', numLayers: 'number', numHeads: 'number',
  numBuckets: 'number', maxDistance: 'number', layerNormEps: 'number',
};
const ENCODER: SchemaOf<MigeEncoderConfig> = { vision: { object: VISION }, qformer: { object: QFORMER }, t5: { object: T5 }, maxLength: 'number', maxImages: 'number' };
const FFM: SchemaOf<FfmConfig> = { embedDim: 'number', numHeads: 'number', kvDim: 'number', vaeDim: 'number', eps: 'number' };
const BACKBONE: SchemaOf<DitConfig> = {
  type: { enum: ['pixart', 'dit-adaln-zero'] }, inputSize: 'number', patchSize: 'number', inChannels: 'number', hiddenSize: 'number',
  depth: 'number', numHeads: 'number', mlpRatio: 'number', captionChannels: 'number', modelMaxLength: 'number', learnSigma: 'boolean', leweiScale: 'number',
};
const VAE: SchemaOf<AutoencoderKLConfig> = {
  inChannels: 'number', outChannels: 'number',
  downBlockTypes: { array: { enum: ['DownEncoderBlock2D'] } }, upBlockTypes: { array: { enum: ['UpDecoderBlock2D'] } },
  blockOutChannels: { array: 'number' }, layersPerBlock: 'number', actFn: { enum: ['silu'] }, latentChannels: 'number',
  normNumGroups: 'number', sampleSize: 'number', scalingFactor: 'number', useQuantConv: 'boolean', usePostQuantConv: 'boolean',
  midBlockAddAttention: 'boolean',
};
/** `fusion` is a union on `type`; its schema is picked after reading the type. */
const FUSION_BY_TYPE: Record<string, Schema> = { ffm: { type: 'string', ffm: { object: FFM } }, none: { type: 'string' } };
const TOP: Omit<SchemaOf<MigeConfig>, 'fusion' | 'prediction' | 'backbone'> = {
  name: 'string', imageSize: 'number', encoder: { object: ENCODER }, vae: { object: VAE }, frozen: { array: 'string' },
};

function describe(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function readField(field: Field, v: unknown, path: string, where: string): unknown {
  const fail = (expected: string): never => {
    throw new MigeInputError(`${path} must be ${expected}, got ${describe(v)} ${JSON.stringify(v)}`, where);
  };
  if (field === 'number') return typeof v === 'number' && Number.isFinite(v) ? v : fail('a number');
  if (field === 'boolean') return typeof v === 'boolean' ? v : fail('true or false');
  if (field === 'string') return typeof v === 'string' ? v : fail('a string');
  if ('enum' in field) return typeof v === 'string' && field.enum.includes(v) ? v : fail(`one of ${field.enum.map((e) => JSON.stringify(e)).join(', ')}`);
  if ('array' in field) return Array.isArray(v) ? v.map((x, i) => readField(field.array, x, `${path}[${i}]`, where)) : fail('an array');
  return isObject(v) ? readObject(field.object, v, path, where) : fail('an object');
}

/** Own keys only: `toString` or `constructor` in a config.json are unknown fields, not inherited ones. */
function readObject(schema: Schema, o: Record<string, unknown>, path: string, where: string): Record<string, unknown> {
  for (const k of Object.keys(o)) if (!Object.hasOwn(schema, k)) throw new MigeInputError(`${path}.${k} is not a known field`, where);
  const out: Record<string, unknown> = {};
  for (const [k, field] of Object.entries(schema)) {
    if (!Object.hasOwn(o, k)) throw new MigeInputError(`${path}.${k} is missing`, where);
    out[k] = readField(field, o[k], `${path}.${k}`, where);
  }
  return out;
}

/**
 * A DiT's backbone section field by field; a type added with registerBackbone as its JSON
 * object (validateMigeConfig then checks the base fields and the type's own validate).
 */
function readBackbone(v: unknown, path: string, where: string): unknown {
  if (v === undefined) throw new MigeInputError(`${path} is missing`, where);
  if (!isObject(v)) throw new MigeInputError(`${path} must be an object, got ${describe(v)}`, where);
  if (typeof v.type === 'string' && !isDitConfig(v as unknown as BackboneConfig) && backboneTypes().includes(v.type)) return { ...v };
  return readObject(BACKBONE, v, path, where);
}

/** JSON (parsed) → a validated MigeConfig; errors name the field's path (`config.…`) and `where` (the file). */
export function parseMigeConfig(json: unknown, where: string): MigeConfig {
  const path = 'config';
  if (!isObject(json)) throw new MigeInputError(`${path} must be an object, got ${describe(json)}`, where);
  const { fusion, prediction, backbone, ...rest } = json;
  // Optional: model folders from before it existed are ε models.
  if (prediction !== undefined && prediction !== 'epsilon' && prediction !== 'v') {
    throw new MigeInputError(`${path}.prediction must be "epsilon" or "v", got ${JSON.stringify(prediction)}`, where);
  }
  if (fusion === undefined) throw new MigeInputError(`${path}.fusion is missing`, where);
  if (!isObject(fusion)) throw new MigeInputError(`${path}.fusion must be an object, got ${describe(fusion)}`, where);
  const schema = typeof fusion.type === 'string' && Object.hasOwn(FUSION_BY_TYPE, fusion.type) ? FUSION_BY_TYPE[fusion.type] : undefined;
  if (!schema) throw new MigeInputError(`${path}.fusion.type must be "ffm" or "none", got ${JSON.stringify(fusion.type)}`, where);
  const config = {
    ...readObject(TOP, rest, path, where),
    backbone: readBackbone(backbone, `${path}.backbone`, where),
    fusion: readObject(schema, fusion, `${path}.fusion`, where),
    ...(prediction === undefined ? {} : { prediction }),
  } as unknown as MigeConfig;
  validateMigeConfig(config, where);
  return config;
}
