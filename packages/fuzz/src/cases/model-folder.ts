import { copyFileSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { torchZip } from '../builders/zip.js';
import type { FuzzCase, FuzzClass, FuzzExpect, FuzzTarget } from '../case.js';
import { safetensorsBytes } from './safetensors.js';

/** The shipped default model (config.json, tokenizer.json, sampling.json, model.safetensors). */
export const DEFAULT_MODEL = fileURLToPath(new URL('../../../model-world/', import.meta.url));
/** An input image of the demo, for the CLI cases. */
export const DEMO_SOURCE = fileURLToPath(new URL('../../../pipelines/demo/edit-source.png', import.meta.url));

const refused = (r: RegExp): FuzzExpect => ({ refused: r });

type Json = Record<string, unknown>;

/** A copy of the default model's folder under `dir/model` (weights linked, not copied). */
function modelFolder(dir: string): string {
  const folder = join(dir, 'model');
  mkdirSync(folder, { recursive: true });
  for (const f of ['config.json', 'tokenizer.json', 'sampling.json']) copyFileSync(join(DEFAULT_MODEL, f), join(folder, f));
  symlinkSync(join(DEFAULT_MODEL, 'model.safetensors'), join(folder, 'model.safetensors'));
  return folder;
}

function editConfig(folder: string, edit: (file: Json, config: Json) => void): void {
  const path = join(folder, 'config.json');
  const file = JSON.parse(readFileSync(path, 'utf8')) as Json;
  edit(file, file.config as Json);
  writeFileSync(path, JSON.stringify(file));
}

/** The field at a dotted path of the config (`backbone.hiddenSize`). */
function setField(config: Json, path: string, value: unknown): void {
  const keys = path.split('.');
  let at = config;
  for (const k of keys.slice(0, -1)) at = at[k] as Json;
  at[keys[keys.length - 1] as string] = value;
}

/** Folders also loaded through the library (loadModel): the CLI runs every one. */
const THROUGH_THE_LIBRARY = new Set(['hidden-size-1e9', 'to-string-field', 'proto-key', 'config-folder', 'tokenizer-100-entries', 'weights-folder', 'weights-of-another-model', 'sampling-constructor-sampler']);

/** The same broken folder through `mige edit`, and for some through the library (loadModel). */
function bothWays(id: string, expect: RegExp, damage: (folder: string) => void): FuzzCase[] {
  const make = (kind: 'lib' | 'cli') => (dir: string): FuzzTarget => {
    const folder = modelFolder(dir);
    damage(folder);
    if (kind === 'lib') return { kind: 'lib', target: 'model', path: folder };
    return { kind: 'cli', argv: ['edit', '--model', folder, '-i', 'make the square blue', '--source', DEMO_SOURCE, '-o', join(dir, 'out.png'), '--steps', '1'] };
  };
  return [
    ...(THROUGH_THE_LIBRARY.has(id) ? [{ id: `model-folder/${id}`, cls: 'model-folder' as FuzzClass, expect: refused(expect), make: make('lib') }] : []),
    { id: `model-folder/edit-${id}`, cls: 'model-folder' as FuzzClass, expect: refused(expect), make: make('cli') },
  ];
}

const FIELD_CASES: [string, string, unknown, RegExp][] = [
  ['hidden-size-1e9', 'backbone.hiddenSize', 1e9, /backbone.hiddenSize must be an integer from 1 to 16384, got 1000000000/],
  ['t5-dff-1e8', 'encoder.t5.dFf', 1e8, /encoder.t5.dFf must be an integer from 1 to 65536, got 100000000/],
  ['image-size-1048576', 'imageSize', 1_048_576, /imageSize must be an integer from 1 to 4096, got 1048576/],
  ['vocab-1e9', 'encoder.t5.vocabSize', 1e9, /encoder.t5.vocabSize must be an integer from 1 to 1048576/],
  ['depth-1e6', 'backbone.depth', 1e6, /backbone.depth must be an integer from 1 to 256/],
  ['heads-zero', 'encoder.vision.numHeads', 0, /encoder.vision.numHeads must be an integer from 1 to 1024, got 0/],
  ['layers-negative', 'encoder.qformer.numLayers', -3, /encoder.qformer.numLayers must be an integer from 1 to 256, got -3/],
  ['patch-fractional', 'backbone.patchSize', 1.5, /backbone.patchSize must be an integer from 1 to 64, got 1.5/],
  ['width-string', 'backbone.hiddenSize', '96', /config.backbone.hiddenSize must be a number, got string "96"/],
  ['width-null', 'encoder.t5.dModel', null, /config.encoder.t5.dModel must be a number, got null/],
  ['eps-zero', 'encoder.qformer.layerNormEps', 0, /encoder.qformer.layerNormEps must be a number above 0/],
  ['mlp-ratio-huge', 'backbone.mlpRatio', 1e6, /backbone.mlpRatio must be a number above 0 and at most 64/],
  ['vae-channels-huge', 'vae.blockOutChannels', [1e9, 64], /vae.blockOutChannels\[0\] must be an integer from 1 to 16384/],
  ['vae-levels-20', 'vae.blockOutChannels', new Array(20).fill(32), /vae.blockOutChannels.length must be an integer from 1 to 8, got 20/],
  ['to-string-field', 'backbone.toString', 1, /config.backbone.toString is not a known field/],
  ['constructor-field', 'constructor', {}, /config.constructor is not a known field/],
  ['fusion-type-constructor', 'fusion.type', 'constructor', /config.fusion.type must be "ffm" or "none", got "constructor"/],
  ['backbone-type-unknown', 'backbone.type', 'unet', /config.backbone.type must be one of "pixart", "dit-adaln-zero"/],
  ['prediction-unknown', 'prediction', 'x0', /config.prediction must be "epsilon" or "v", got "x0"/],
  ['frozen-not-list', 'frozen', 'visual_encoder.', /config.frozen must be an array/],
  [
    'dims-in-bounds-product-not',
    'encoder.t5',
    { vocabSize: 2100, dModel: 16384, dKv: 1024, dFf: 65536, numLayers: 256, numHeads: 16, numBuckets: 32, maxDistance: 128, layerNormEps: 1e-6 },
    /the model would have about [\d.]+e\+\d+ parameters, over the limit/,
  ],
];

const FOLDER_CASES: [string, RegExp, (folder: string) => void][] = [
  ...FIELD_CASES.map(([id, path, value, pattern]): [string, RegExp, (folder: string) => void] => [id, pattern, (f) => editConfig(f, (_file, c) => setField(c, path, value))]),
  ['proto-key', /config.__proto__ is not a known field/, (f) => {
    const path = join(f, 'config.json');
    const text = readFileSync(path, 'utf8').replace('"config": {', '"config": {"__proto__": {"imageSize": 32},');
    writeFileSync(path, text);
  }],
  ['format-wrong', /format is "safetensors", expected "mige.js-model"/, (f) => editConfig(f, (file) => void (file.format = 'safetensors'))],
  ['version-2', /version 2 is not supported/, (f) => editConfig(f, (file) => void (file.version = 2))],
  ['config-not-json', /config.json: is not valid JSON/, (f) => writeFileSync(join(f, 'config.json'), '{"format": ')],
  ['config-empty', /config.json: is not valid JSON/, (f) => writeFileSync(join(f, 'config.json'), '')],
  ['config-array', /config.json: must hold a JSON object/, (f) => writeFileSync(join(f, 'config.json'), '[]')],
  ['config-2MB', /config.json: is \d+ bytes, over the 1048576-byte limit/, (f) => writeFileSync(join(f, 'config.json'), `{"pad":"${'x'.repeat(2_000_000)}"}`)],
  ['config-folder', /config.json: is a folder, not a file/, (f) => {
    rmSync(join(f, 'config.json'));
    mkdirSync(join(f, 'config.json'));
  }],
  ['config-missing', /config.json: not found: a MIGE.js model folder needs a config.json/, (f) => rmSync(join(f, 'config.json'))],
  ['tokenizer-missing', /tokenizer.json: not found: the model needs its tokenizer/, (f) => rmSync(join(f, 'tokenizer.json'))],
  ['tokenizer-folder', /tokenizer.json: is a folder, not a file/, (f) => {
    rmSync(join(f, 'tokenizer.json'));
    mkdirSync(join(f, 'tokenizer.json'));
  }],
  ['tokenizer-not-json', /tokenizer.json: not valid JSON/, (f) => writeFileSync(join(f, 'tokenizer.json'), '{{')],
  ['tokenizer-bpe', /model type BPE is not a Unigram vocabulary/, (f) => writeFileSync(join(f, 'tokenizer.json'), '{"model":{"type":"BPE","vocab":{}}}')],
  ['tokenizer-100-entries', /the tokenizer has \d+ tokens but encoder.t5.vocabSize is 2100/, (f) => {
    const path = join(f, 'tokenizer.json');
    const json = JSON.parse(readFileSync(path, 'utf8')) as { model: { vocab: unknown[] } };
    json.model.vocab = json.model.vocab.slice(0, 100);
    writeFileSync(path, JSON.stringify(json));
  }],
  ['weights-missing', /model.safetensors: not found: the model folder has no model.safetensors/, (f) => rmSync(join(f, 'model.safetensors'))],
  ['weights-folder', /model.safetensors: is a folder, not a file/, (f) => {
    rmSync(join(f, 'model.safetensors'));
    mkdirSync(join(f, 'model.safetensors'));
  }],
  ['weights-truncated', /model.safetensors: (header|tensor|.*exceeds the file size|.*out of range)/, (f) => {
    rmSync(join(f, 'model.safetensors'));
    writeFileSync(join(f, 'model.safetensors'), readFileSync(join(DEFAULT_MODEL, 'model.safetensors')).subarray(0, 30_000));
  }],
  ['weights-of-another-model', /\d+ tensor\(s\) missing: /, (f) => {
    rmSync(join(f, 'model.safetensors'));
    writeFileSync(join(f, 'model.safetensors'), safetensorsBytes('{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', new Uint8Array(4)));
  }],
  ['sampling-not-json', /sampling.json: is not valid JSON/, (f) => writeFileSync(join(f, 'sampling.json'), 'nope')],
  ['sampling-constructor-sampler', /unknown sampler type "constructor"/, (f) => writeFileSync(join(f, 'sampling.json'), '{"edit":{"sampler":{"type":"constructor"}}}')],
];

/** `--model` values that name no folder, some of them Object.prototype's names. */
const MODEL_ARGS: [string, RegExp][] = [
  ['constructor', /"constructor" is not a model folder .* or a preset/],
  ['toString', /"toString" is not a model folder .* or a preset/],
  ['__proto__', /"__proto__" is not a model folder .* or a preset/],
  ['hasOwnProperty', /"hasOwnProperty" is not a model folder .* or a preset/],
  ['/dev/null', /\/dev\/null: (no such model folder|a bare weights file needs|is not a regular file|is a file; a model is a folder)/],
];

export function modelFolderCases(): FuzzCase[] {
  const out: FuzzCase[] = [
    {
      id: 'model-folder/baseline',
      cls: 'model-folder',
      expect: { accepted: true },
      make: (dir) => ({ kind: 'lib', target: 'model', path: modelFolder(dir) }),
    },
    {
      id: 'cli/edit-baseline',
      cls: 'cli',
      expect: { accepted: true },
      make: (dir) => ({ kind: 'cli', argv: ['edit', '--model', modelFolder(dir), '-i', 'make the square blue', '--source', DEMO_SOURCE, '-o', join(dir, 'out.png'), '--steps', '1'] }),
    },
  ];
  for (const [id, pattern, damage] of FOLDER_CASES) out.push(...bothWays(id, pattern, damage));
  for (const [value, pattern] of MODEL_ARGS) {
    out.push({
      id: `cli/model-arg-${value.replace(/\W/g, '') || 'root'}`,
      cls: 'cli',
      expect: refused(pattern),
      make: (dir) => ({ kind: 'cli', argv: ['edit', '--model', value, '-i', 'make it blue', '--source', DEMO_SOURCE, '-o', join(dir, 'out.png'), '--steps', '1'] }),
    });
    out.push({
      id: `cli/train-model-arg-${value.replace(/\W/g, '') || 'root'}`,
      cls: 'cli',
      expect: refused(pattern),
      make: (dir) => ({ kind: 'cli', argv: ['train', '--model', value, '--world', '4', '--out', join(dir, 'run'), '--steps', '1'] }),
    });
  }
  out.push(
    { id: 'cli/edit-source-folder', cls: 'cli', expect: refused(/--source .*: (is a folder|not a file|is not a regular file)/), make: (dir) => ({ kind: 'cli', argv: ['edit', '--model', 'mige-tiny', '-i', 'x', '--source', dir, '-o', join(dir, 'o.png')] }) },
    { id: 'cli/edit-source-not-image', cls: 'cli', expect: refused(/not a PNG, JPEG or WebP|unsupported|format/i), make: (dir) => {
      writeFileSync(join(dir, 'x.png'), 'hello');
      return { kind: 'cli', argv: ['edit', '--model', 'mige-tiny', '-i', 'x', '--source', join(dir, 'x.png'), '-o', join(dir, 'o.png')] };
    } },
    { id: 'cli/convert-bomb', cls: 'cli', expect: refused(/over the .*budget|more than \d+ objects/), make: (dir) => {
      // A pickle of 5M EMPTY_DICTs, stored: 5 MB that would be ~2 GB of dicts.
      const pickle = Buffer.concat([Buffer.from([0x80, 2]), Buffer.alloc(5_000_000, 0x7d), Buffer.from('.')]);
      writeFileSync(join(dir, 'model.pth'), torchZip(pickle));
      return { kind: 'cli', argv: ['convert', '--config', 'mige-tiny', '--mige', join(dir, 'model.pth'), '--out', join(dir, 'out')] };
    } },
  );
  return out;
}
