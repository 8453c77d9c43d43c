import { MigeInputError } from '@mige/core';
import type { T5Tokenizer } from '@mige/encoder';
import type { DitConfig } from '@mige/dit';
import type { BackboneConfig } from './backbones.js';
import type { MigeConfig } from './config.js';

/**
 * Sanity bounds on a MigeConfig, checked before anything is built: every dimension within a
 * range that real models use with room to spare (MIGE-XL: T5-XXL 4096 wide with a 10240 FFN,
 * EVA ViT-g 1408 × 39, PixArt-XL 1152 × 28, 512 px), then the products that decide memory, the
 * parameter count and the largest activation, so `hiddenSize: 1e9` or `imageSize: 1048576` is a
 * one-line error naming the field instead of an allocation that takes the process down.
 */

/** Largest parameter count accepted (MIGE-XL has about 6.6e9; this is 80 GB of float32). */
export const MAX_PARAMETERS = 20e9;
/** Largest single activation tensor, in bytes of float32, for one image (MIGE-XL's: ~134 MB). */
export const MAX_ACTIVATION_BYTES = 4 * 1024 ** 3;

type Bound = { int: [number, number] } | { real: [number, number] };

const WIDTH: Bound = { int: [1, 16_384] };
const FFN: Bound = { int: [1, 65_536] };
const LAYERS: Bound = { int: [1, 256] };
const HEADS: Bound = { int: [1, 1024] };
const CHANNELS: Bound = { int: [1, 64] };
const SIDE: Bound = { int: [1, 4096] };
const PATCH: Bound = { int: [1, 64] };
const EPS: Bound = { real: [0, 1] };

function check(path: string, value: unknown, bound: Bound, fail: (m: string) => never): number {
  if ('int' in bound) {
    const [min, max] = bound.int;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) fail(`${path} must be an integer from ${min} to ${max}, got ${String(value)}`);
  } else {
    const [above, max] = bound.real;
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= above || value > max) fail(`${path} must be a number above ${above} and at most ${max}, got ${String(value)}`);
  }
  return value as number;
}

const DIT_TYPES: ReadonlySet<string> = new Set(['pixart', 'dit-adaln-zero']);

/** The backbone config as a DiT's, when it is one. */
function ditOf(b: BackboneConfig): DitConfig | undefined {
  return DIT_TYPES.has(b.type) ? (b as DitConfig) : undefined;
}

/** Every numeric field with its bound, named as in config.json. */
function fields(c: Readonly<MigeConfig>): [string, unknown, Bound][] {
  const { vision: v, qformer: q, t5 } = c.encoder;
  const b = c.backbone;
  const out: [string, unknown, Bound][] = [
    ['imageSize', c.imageSize, SIDE],
    ['encoder.maxLength', c.encoder.maxLength, { int: [1, 8192] }],
    ['encoder.maxImages', c.encoder.maxImages, { int: [1, 64] }],
    ['encoder.vision.imgSize', v.imgSize, SIDE],
    ['encoder.vision.patchSize', v.patchSize, PATCH],
    ['encoder.vision.embedDim', v.embedDim, WIDTH],
    ['encoder.vision.depth', v.depth, LAYERS],
    ['encoder.vision.numHeads', v.numHeads, HEADS],
    ['encoder.vision.mlpRatio', v.mlpRatio, { real: [0, 64] }],
    ['encoder.qformer.hiddenSize', q.hiddenSize, WIDTH],
    ['encoder.qformer.numLayers', q.numLayers, LAYERS],
    ['encoder.qformer.numHeads', q.numHeads, HEADS],
    ['encoder.qformer.intermediateSize', q.intermediateSize, FFN],
    ['encoder.qformer.encoderWidth', q.encoderWidth, WIDTH],
    ['encoder.qformer.crossAttentionFreq', q.crossAttentionFreq, LAYERS],
    ['encoder.qformer.numQueryTokens', q.numQueryTokens, { int: [1, 1024] }],
    ['encoder.qformer.layerNormEps', q.layerNormEps, EPS],
    ['encoder.t5.vocabSize', t5.vocabSize, { int: [1, 1_048_576] }],
    ['encoder.t5.dModel', t5.dModel, WIDTH],
    ['encoder.t5.dKv', t5.dKv, { int: [1, 1024] }],
    ['encoder.t5.dFf', t5.dFf, FFN],
    ['encoder.t5.numLayers', t5.numLayers, LAYERS],
    ['encoder.t5.numHeads', t5.numHeads, HEADS],
    ['encoder.t5.numBuckets', t5.numBuckets, { int: [1, 4096] }],
    ['encoder.t5.maxDistance', t5.maxDistance, { int: [1, 65_536] }],
    ['encoder.t5.layerNormEps', t5.layerNormEps, EPS],
    ['backbone.inputSize', b.inputSize, { int: [1, 1024] }],
    ['backbone.inChannels', b.inChannels, CHANNELS],
    ['backbone.hiddenSize', b.hiddenSize, WIDTH],
    ['backbone.captionChannels', b.captionChannels, WIDTH],
    ['backbone.modelMaxLength', b.modelMaxLength, { int: [1, 8192] }],
    // A DiT's own fields (a registered backbone type bounds its own in its factory's validate).
    ...(ditOf(b) ? ([
      ['backbone.patchSize', (b as DitConfig).patchSize, PATCH],
      ['backbone.depth', (b as DitConfig).depth, LAYERS],
      ['backbone.numHeads', (b as DitConfig).numHeads, HEADS],
      ['backbone.mlpRatio', (b as DitConfig).mlpRatio, { real: [0, 64] }],
      ['backbone.leweiScale', (b as DitConfig).leweiScale, { real: [0, 1000] }],
    ] as [string, unknown, Bound][]) : []),
    ['vae.inChannels', c.vae.inChannels, CHANNELS],
    ['vae.outChannels', c.vae.outChannels, CHANNELS],
    ['vae.layersPerBlock', c.vae.layersPerBlock, { int: [1, 16] }],
    ['vae.latentChannels', c.vae.latentChannels, CHANNELS],
    ['vae.normNumGroups', c.vae.normNumGroups, { int: [1, 1024] }],
    ['vae.sampleSize', c.vae.sampleSize, SIDE],
    ['vae.scalingFactor', c.vae.scalingFactor, { real: [0, 1000] }],
  ];
  if (!Array.isArray(c.vae.blockOutChannels) || c.vae.blockOutChannels.length < 1 || c.vae.blockOutChannels.length > 8) {
    out.push(['vae.blockOutChannels.length', Array.isArray(c.vae.blockOutChannels) ? c.vae.blockOutChannels.length : undefined, { int: [1, 8] }]);
  } else {
    c.vae.blockOutChannels.forEach((ch, i) => out.push([`vae.blockOutChannels[${i}]`, ch, WIDTH]));
  }
  if (c.fusion.type === 'ffm') {
    const f = c.fusion.ffm;
    out.push(['fusion.ffm.embedDim', f.embedDim, WIDTH], ['fusion.ffm.numHeads', f.numHeads, HEADS], ['fusion.ffm.kvDim', f.kvDim, WIDTH], ['fusion.ffm.vaeDim', f.vaeDim, WIDTH], ['fusion.ffm.eps', f.eps, EPS]);
  }
  return out;
}

/** Widths that attention splits into heads must divide; patches must tile their image. */
function checkShapes(c: Readonly<MigeConfig>, fail: (m: string) => never): void {
  const divides = (a: string, av: number, b: string, bv: number): void => {
    if (av % bv !== 0) fail(`${a} (${av}) must be a multiple of ${b} (${bv})`);
  };
  const { vision: v, qformer: q } = c.encoder;
  divides('encoder.vision.imgSize', v.imgSize, 'encoder.vision.patchSize', v.patchSize);
  divides('encoder.vision.embedDim', v.embedDim, 'encoder.vision.numHeads', v.numHeads);
  divides('encoder.qformer.hiddenSize', q.hiddenSize, 'encoder.qformer.numHeads', q.numHeads);
  if (c.fusion.type === 'ffm') divides('fusion.ffm.embedDim', c.fusion.ffm.embedDim, 'fusion.ffm.numHeads', c.fusion.ffm.numHeads);
}

/** The parameter count estimated from the dims alone (nothing is built): within a few % of the real one. */
export function estimateParameters(c: Readonly<MigeConfig>): number {
  const { vision: v, qformer: q, t5 } = c.encoder;
  const b = c.backbone;
  const vitTokens = (v.imgSize / v.patchSize) ** 2 + 1;
  const vitMlp = v.embedDim * v.mlpRatio;
  const vision = 3 * v.patchSize ** 2 * v.embedDim + vitTokens * v.embedDim + v.depth * (4 * v.embedDim ** 2 + 2 * v.embedDim * vitMlp);
  const crossLayers = Math.ceil(q.numLayers / q.crossAttentionFreq);
  const qformer = q.numQueryTokens * q.hiddenSize + q.numLayers * (4 * q.hiddenSize ** 2 + 2 * q.hiddenSize * q.intermediateSize) + crossLayers * (2 * q.hiddenSize * q.encoderWidth + 2 * q.hiddenSize ** 2);
  const inner = t5.numHeads * t5.dKv;
  const text = t5.vocabSize * t5.dModel + t5.numLayers * (4 * t5.dModel * inner + 3 * t5.dModel * t5.dFf);
  const f = c.fusion.type === 'ffm' ? c.fusion.ffm : undefined;
  const ffm = f ? 2 * f.embedDim ** 2 + 2 * f.embedDim * f.kvDim + f.vaeDim * f.embedDim : 0;
  const d = ditOf(b);
  const h = b.hiddenSize;
  // Embedders (patch, timestep, caption), the shared adaLN table, then per block: self- and
  // cross-attention (8 H²) and the MLP. (A registered backbone type counts its own.)
  const backbone = d ? d.inChannels * d.patchSize ** 2 * h * 3 + 256 * h + h * h + 6 * h * h + d.captionChannels * h + h * h + d.depth * (8 * h * h + 2 * h * h * d.mlpRatio) : 0;
  // Per level: the encoder's and decoder's 3×3 convolutions (2 per resnet, 2L + 1 resnets, a
  // resampler each); the mid block (4 resnets, 2 attentions) at the last width.
  const L = c.vae.layersPerBlock;
  const last = c.vae.blockOutChannels[c.vae.blockOutChannels.length - 1] ?? 0;
  const vae = c.vae.blockOutChannels.reduce((n, ch) => n + 9 * ch * ch * (4 * L + 4), 0) + 80 * last * last;
  return vision + qformer + text + ffm + backbone + vae + q.hiddenSize * t5.dModel;
}

/** The largest single float32 activation of one image, in bytes, from the dims alone. */
export function estimateLargestActivation(c: Readonly<MigeConfig>): number {
  const { vision: v, t5 } = c.encoder;
  const b = ditOf(c.backbone);
  const L = c.encoder.maxLength;
  const vitTokens = (v.imgSize / v.patchSize) ** 2 + 1;
  const ditTokens = b ? Math.ceil(b.inputSize / b.patchSize) ** 2 : 0;
  const levels = c.vae.blockOutChannels.map((ch, i) => (c.imageSize / 2 ** i) ** 2 * ch);
  const latent = (c.imageSize / 2 ** (c.vae.blockOutChannels.length - 1)) ** 2;
  const elements = Math.max(
    v.numHeads * vitTokens ** 2, // ViT attention
    t5.numHeads * L * L, // T5 attention
    L * t5.dFf,
    ...(b ? [
      b.numHeads * ditTokens ** 2, // DiT self-attention
      b.numHeads * ditTokens * L, // DiT cross-attention
      ditTokens * b.hiddenSize * b.mlpRatio,
    ] : []),
    ...levels, // VAE convolutions at each resolution
    latent * latent, // VAE mid-block attention
  );
  return elements * 4;
}

/** Throws a one-line MigeInputError naming the first field, or product, out of bounds. */
export function checkConfigBounds(c: Readonly<MigeConfig>, where: string): void {
  const fail = (message: string): never => {
    throw new MigeInputError(message, where);
  };
  for (const [path, value, bound] of fields(c)) check(path, value, bound, fail);
  checkShapes(c, fail);
  const params = estimateParameters(c);
  if (params > MAX_PARAMETERS) fail(`the model would have about ${params.toExponential(2)} parameters, over the limit of ${MAX_PARAMETERS.toExponential(0)}: check its widths and depths`);
  const activation = estimateLargestActivation(c);
  if (activation > MAX_ACTIVATION_BYTES) {
    fail(`one image would need a ${(activation / 1024 ** 3).toFixed(1)} GiB activation (over the ${MAX_ACTIVATION_BYTES / 1024 ** 3} GiB limit): check imageSize, the patch sizes and the attention widths`);
  }
}

/**
 * The tokenizer must fit the T5 embedding: its ids below `vocabSize`, and `vocabSize` no bigger
 * than the tokenizer rounded up to a multiple of 128 (T5: 32,100 tokens in a 32,128 table), so
 * a 100-token tokenizer cannot silently drive a 2,100-token model.
 */
export function checkTokenizerFits(tokenizer: T5Tokenizer, vocabSize: number, where: string): void {
  const n = tokenizer.vocabSize;
  const padded = Math.ceil(n / 128) * 128;
  if (n > vocabSize) throw new MigeInputError(`the tokenizer has ${n} tokens but encoder.t5.vocabSize is ${vocabSize}: its ids would fall outside the embedding`, where);
  if (vocabSize > padded) {
    throw new MigeInputError(`the tokenizer has ${n} tokens but encoder.t5.vocabSize is ${vocabSize} (at most ${padded}, the tokenizer's size padded to 128): a different model's tokenizer?`, where);
  }
}
