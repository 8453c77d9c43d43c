import { initBackend } from '@mige/core';
import { T5Tokenizer } from '@mige/encoder';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  checkTokenizerFits,
  estimateLargestActivation,
  estimateParameters,
  isMigePresetName,
  MAX_PARAMETERS,
  MIGE_TINY,
  MIGE_XL,
  MigeModel,
  parseMigeConfig,
  tinyTokenizer,
  defaultModelDir,
  readModelConfig,
  type MigeConfig,
} from '../../src/model/index.js';
import { errorOf } from './helpers.js';

const loadDefaultModelConfig = async (): Promise<MigeConfig> => readModelConfig(join(defaultModelDir(), 'config.json'));
const defaultTokenizer = (): T5Tokenizer => T5Tokenizer.fromTokenizerJson(join(defaultModelDir(), 'tokenizer.json'));

/** mige-tiny as config.json would hold it, changed by `edit`. */
function jsonWith(edit: (c: MigeConfig & Record<string, unknown>) => void): unknown {
  const c = JSON.parse(JSON.stringify(MIGE_TINY)) as MigeConfig & Record<string, unknown>;
  edit(c);
  return c;
}

const messageOf = (f: () => unknown): string => errorOf(f).message;

describe('config bounds', () => {
  const cases: [string, (c: MigeConfig & Record<string, unknown>) => void, RegExp][] = [
    ['an absurd DiT width', (c) => void (c.backbone.hiddenSize = 1e9), /^c.json: backbone.hiddenSize must be an integer from 1 to 16384, got 1000000000$/],
    ['an absurd T5 FFN', (c) => void (c.encoder.t5.dFf = 1e8), /encoder.t5.dFf must be an integer from 1 to 65536, got 100000000/],
    ['an absurd image size', (c) => void (c.imageSize = 1_048_576), /imageSize must be an integer from 1 to 4096, got 1048576/],
    ['a fractional depth', (c) => void (c.backbone.depth = 2.5), /backbone.depth must be an integer from 1 to 256, got 2.5/],
    ['zero heads', (c) => void (c.encoder.t5.numHeads = 0), /encoder.t5.numHeads must be an integer from 1 to 1024, got 0/],
    ['a negative vocabulary', (c) => void (c.encoder.t5.vocabSize = -1), /encoder.t5.vocabSize must be an integer from 1 to 1048576, got -1/],
    ['an epsilon of 0', (c) => void (c.encoder.qformer.layerNormEps = 0), /encoder.qformer.layerNormEps must be a number above 0 and at most 1, got 0/],
    ['nine VAE levels', (c) => void (c.vae.blockOutChannels = [32, 32, 32, 32, 32, 32, 32, 32, 32]), /vae.blockOutChannels.length must be an integer from 1 to 8, got 9/],
    ['a ViT width its heads do not divide', (c) => void (c.encoder.vision.numHeads = 5), /encoder.vision.embedDim \(48\) must be a multiple of encoder.vision.numHeads \(5\)/],
    ['patches that do not tile the ViT image', (c) => void (c.encoder.vision.patchSize = 5), /encoder.vision.imgSize \(28\) must be a multiple of encoder.vision.patchSize \(5\)/],
    [
      'each T5 dimension in bounds, their product not',
      (c) => void Object.assign(c.encoder.t5, { dModel: 16384, dFf: 65536, numLayers: 256, dKv: 1024, numHeads: 16 }),
      /the model would have about 1\.\d+e\+12 parameters, over the limit of 2e\+10/,
    ],
    [
      'each VAE dimension in bounds, one activation (the mid-block attention over 2048² latents) not',
      (c) => void Object.assign(c, { imageSize: 4096, vae: { ...c.vae, blockOutChannels: [4096, 4096] } }),
      /one image would need a 65536\.0 GiB activation \(over the 4 GiB limit\)/,
    ],
    ['an inherited name as a field', (c) => void Object.assign(c.backbone, { toString: 1 }), /config.backbone.toString is not a known field/],
    ['constructor as a field', (c) => void Object.assign(c, { constructor: 1 }), /config.constructor is not a known field/],
    ['constructor as the fusion type', (c) => void ((c.fusion as { type: string }).type = 'constructor'), /config.fusion.type must be "ffm" or "none", got "constructor"/],
  ];
  it.each(cases)('refuses %s in one line naming the field', (_, edit, pattern) => {
    const message = messageOf(() => parseMigeConfig(jsonWith(edit), 'c.json'));
    expect(message).toMatch(pattern);
    expect(message).not.toContain('\n');
  });

  it('refuses a JSON __proto__ key as an unknown field (JSON.parse makes it an own key)', () => {
    const json = JSON.parse(`{"__proto__": {"imageSize": 32}, ${JSON.stringify(MIGE_TINY).slice(1)}`) as unknown;
    expect(messageOf(() => parseMigeConfig(json, 'c.json'))).toMatch(/config.__proto__ is not a known field/);
  });

  it('estimates MIGE-XL at the size of its parts (T5-XXL 4.7e9 + EVA ViT-g 1.0e9 + PixArt-XL 0.6e9 + the rest)', () => {
    const n = estimateParameters(MIGE_XL);
    expect(n).toBeGreaterThan(6.2e9);
    expect(n).toBeLessThan(7.2e9);
    expect(n).toBeLessThan(MAX_PARAMETERS);
    // The VAE's first convolution at 512 px (128 channels) is MIGE-XL's largest activation: 134 MB.
    expect(estimateLargestActivation(MIGE_XL)).toBe(512 * 512 * 128 * 4);
  });

  describe('on a built model', () => {
    beforeAll(() => initBackend({ backend: 'cpu', log: null }));

    it('estimates the real parameter counts of mige-tiny and of the default model to within 10%', async () => {
      for (const config of [MIGE_TINY, (await loadDefaultModelConfig())]) {
        const model = MigeModel.build(config, config.name === 'mige-tiny' ? undefined : defaultTokenizer(), false);
        try {
          const real = model.parameterCounts().total;
          expect(Math.abs(estimateParameters(config) / real - 1)).toBeLessThan(0.1);
        } finally {
          model.dispose();
        }
      }
    });

    it('refuses a tokenizer that does not fit the T5 vocabulary', () => {
      // A 100-piece vocabulary (201 tokens with T5's added ones) against mige-tiny's 2100.
      const small = T5Tokenizer.fromTokenizerJson({ ...tinyTokenizer().json, model: { ...tinyTokenizer().json.model, vocab: tinyTokenizer().json.model.vocab.slice(0, 100) } });
      expect(messageOf(() => MigeModel.build(MIGE_TINY, small, false))).toBe(
        `MigeConfig "mige-tiny": the tokenizer has ${small.vocabSize} tokens but encoder.t5.vocabSize is 2100 (at most 256, the tokenizer's size padded to 128): a different model's tokenizer?`,
      );
      expect(messageOf(() => checkTokenizerFits(tinyTokenizer(), 2000, 'c.json'))).toBe(
        'c.json: the tokenizer has 2100 tokens but encoder.t5.vocabSize is 2000: its ids would fall outside the embedding',
      );
      // T5's own padding: 32,100 tokens in a 32,128 table; the tiny tokenizer's 2100 in 2100..2176.
      expect(() => checkTokenizerFits(tinyTokenizer(), 2176, 'c.json')).not.toThrow();
      expect(() => checkTokenizerFits(tinyTokenizer(), 2177, 'c.json')).toThrow(/at most 2176/);
    });
  });
});

describe('preset names', () => {
  it('are own keys only: inherited names are not presets', () => {
    expect(isMigePresetName('mige-tiny')).toBe(true);
    expect(isMigePresetName('mige-xl')).toBe(true);
    for (const name of ['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf']) expect(isMigePresetName(name)).toBe(false);
  });
});
