import { describe, expect, it } from 'vitest';
import { MIGE_PRESETS, MIGE_TINY, MIGE_XL, parseMigeConfig, validateMigeConfig, type MigeConfig } from '../../src/model/index.js';
import { errorOf, microConfig } from './helpers.js';

/** A deep, mutable copy of mige-tiny changed by `edit`. */
function tinyWith(edit: (c: MigeConfig) => void): MigeConfig {
  const c = structuredClone(MIGE_TINY) as MigeConfig;
  edit(c);
  return c;
}

describe('MigeConfig', () => {
  it('the presets validate and have the reference sizes', () => {
    for (const c of Object.values(MIGE_PRESETS)) expect(() => validateMigeConfig(c, c.name)).not.toThrow();
    expect(MIGE_XL.name).toBe('mige-xl');
    expect(MIGE_XL.imageSize / 8).toBe(MIGE_XL.backbone.inputSize);
    expect(MIGE_XL.encoder.t5.dModel).toBe(4096);
    expect(MIGE_XL.backbone.captionChannels).toBe(4096);
    expect(MIGE_XL.fusion).toEqual({ type: 'ffm', ffm: { embedDim: 768, numHeads: 8, kvDim: 768, vaeDim: 1152, eps: 1e-6 } });
    expect(MIGE_XL.frozen).toEqual(['visual_encoder.']);
    expect(MIGE_TINY.name).toBe('mige-tiny');
    expect(MIGE_TINY.imageSize).toBe(32);
    expect(MIGE_TINY.backbone.inputSize).toBe(16);
    expect(() => validateMigeConfig(microConfig())).not.toThrow();
  });

  const rules: [string, (c: MigeConfig) => void, RegExp][] = [
    ['T5 width vs caption channels', (c) => void (c.backbone.captionChannels = 32), /encoder\.t5\.dModel \(64\) must equal backbone\.captionChannels \(32\)/],
    ['maxLength vs modelMaxLength', (c) => void (c.encoder.maxLength = 16), /encoder\.maxLength \(16\) must equal backbone\.modelMaxLength \(32\)/],
    ['ViT width vs Q-Former encoderWidth', (c) => void (c.encoder.qformer.encoderWidth = 32), /encoder\.vision\.embedDim \(48\) must equal encoder\.qformer\.encoderWidth \(32\)/],
    ['latent channels', (c) => void (c.vae.latentChannels = 8), /vae\.latentChannels \(8\) must equal backbone\.inChannels \(4\)/],
    ['FFM vaeDim vs DiT hidden', (c) => void (c.fusion.type === 'ffm' && (c.fusion.ffm.vaeDim = 32)), /fusion\.ffm\.vaeDim \(32\) must equal backbone\.hiddenSize \(64\)/],
    [
      'FFM embedDim vs Q-Former hidden',
      (c) => void (c.fusion.type === 'ffm' && Object.assign(c.fusion.ffm, { embedDim: 64, kvDim: 64 })),
      /fusion\.ffm\.embedDim \(64\) must equal encoder\.qformer\.hiddenSize \(48\)/,
    ],
    ['latent size vs DiT inputSize', (c) => void (c.imageSize = 64), /imageSize \(64\) \/ the VAE downsample factor \(2\) = 32 must equal backbone\.inputSize \(16\)/],
    ['image size divisible', (c) => void (c.imageSize = 33), /imageSize \(33\) must be a multiple of the VAE downsample factor \(2/],
    ['component validators are prefixed', (c) => void (c.backbone.numHeads = 5), /test.json: backbone: hiddenSize 64 is not divisible by numHeads 5/],
    ['vae validator', (c) => void (c.vae.normNumGroups = 7), /test.json: vae: blockOutChannels entry 32 is not divisible by normNumGroups 7/],
    ['frozen prefixes', (c) => void (c.frozen = ['']), /frozen must be a list of non-empty name prefixes/],
  ];
  it.each(rules)('rejects a mismatch: %s', (_, edit, message) => {
    const e = errorOf(() => validateMigeConfig(tinyWith(edit), 'test.json'));
    expect(e.message).toMatch(message);
    expect(e.where).toBe('test.json');
  });

  it('a fusion of type none skips the FFM rules', () => {
    expect(() => validateMigeConfig(tinyWith((c) => void (c.fusion = { type: 'none' })))).not.toThrow();
  });
});

describe('parseMigeConfig', () => {
  const json = (): Record<string, unknown> => JSON.parse(JSON.stringify(MIGE_TINY)) as Record<string, unknown>;

  it('round-trips every preset through JSON', () => {
    for (const c of Object.values(MIGE_PRESETS)) expect(parseMigeConfig(JSON.parse(JSON.stringify(c)), 'x.json')).toEqual(c);
  });

  /** Sets (or, with DELETE, removes) the field at `path` of parsed JSON. */
  const DELETE = Symbol('delete');
  function setPath(o: Record<string, unknown>, path: (string | number)[], value: unknown): void {
    let at = o as Record<string | number, unknown>;
    for (const k of path.slice(0, -1)) at = at[k] as Record<string | number, unknown>;
    const last = path[path.length - 1] as string | number;
    if (value === DELETE) delete at[last];
    else at[last] = value;
  }
  const cases: [string, (string | number)[], unknown, string][] = [
    ['a missing field', ['backbone', 'hiddenSize'], DELETE, 'config.backbone.hiddenSize is missing'],
    ['an unknown field', ['backbone', 'hiddenSizes'], 3, 'config.backbone.hiddenSizes is not a known field'],
    ['an unknown top-level field', ['extra'], 1, 'config.extra is not a known field'],
    ['a wrong type', ['backbone', 'hiddenSize'], '64', 'config.backbone.hiddenSize must be a number, got string "64"'],
    ['a nested encoder field', ['encoder', 'qformer', 'numQueryTokens'], DELETE, 'config.encoder.qformer.numQueryTokens is missing'],
    ['an array item', ['vae', 'blockOutChannels', 1], null, 'config.vae.blockOutChannels[1] must be a number, got null null'],
    ['an enum', ['backbone', 'type'], 'unet', 'config.backbone.type must be one of "pixart", "dit-adaln-zero", got string "unet"'],
    ['a fusion type', ['fusion'], { type: 'ffn' }, 'config.fusion.type must be "ffm" or "none", got "ffn"'],
    ['an FFM field', ['fusion', 'ffm', 'eps'], DELETE, 'config.fusion.ffm.eps is missing'],
    ['a boolean', ['vae', 'useQuantConv'], 1, 'config.vae.useQuantConv must be true or false, got number 1'],
  ];
  it.each(cases)('names the path of %s', (_, path, value, message) => {
    const o = json();
    setPath(o, path, value);
    const e = errorOf(() => parseMigeConfig(o, 'model/config.json'));
    expect(e.message).toBe(`model/config.json: ${message}`);
    expect(e.where).toBe('model/config.json');
  });

  it('reads the optional prediction (absent: an ε model) and rejects an unknown one', () => {
    const json = JSON.parse(JSON.stringify(MIGE_TINY)) as Record<string, unknown>;
    expect(parseMigeConfig(json, 'c.json').prediction).toBeUndefined();
    expect(parseMigeConfig({ ...json, prediction: 'v' }, 'c.json').prediction).toBe('v');
    expect(errorOf(() => parseMigeConfig({ ...json, prediction: 'x0' }, 'c.json')).message).toBe('c.json: config.prediction must be "epsilon" or "v", got "x0"');
  });

  it('rejects a non-object and validates consistency', () => {
    expect(errorOf(() => parseMigeConfig([], 'c.json')).message).toBe('c.json: config must be an object, got an array');
    const o = json();
    (o.backbone as Record<string, unknown>).captionChannels = 32;
    expect(errorOf(() => parseMigeConfig(o, 'c.json')).message).toMatch(/encoder\.t5\.dModel \(64\) must equal backbone\.captionChannels \(32\)/);
  });
});
