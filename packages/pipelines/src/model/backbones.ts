import { MigeInputError, type DiffusionBackbone } from '@mige/core';
import { createBackbone, validateConfig as validateDitConfig, type DitConfig } from '@mige/dit';

/**
 * What MIGE's wiring needs to know of any backbone's config; validateMigeConfig checks these
 * fields against the other components. A backbone type adds its own fields.
 */
export interface BackboneConfigBase {
  /** The registered backbone type ('pixart', 'dit-adaln-zero', or your own). */
  type: string;
  /** Latent side: imageSize / the VAE's downsample factor. */
  inputSize: number;
  /** Latent channels; the backbone takes twice as many (noisy latent ‖ conditional input). */
  inChannels: number;
  /** Width of its patch embedder's tokens (FFM's vaeDim). */
  hiddenSize: number;
  /** Width of the condition y (the T5 encoder's dModel). */
  captionChannels: number;
  /** Longest condition it takes (the encoder's maxLength; the null condition's length). */
  modelMaxLength: number;
  /** Whether it also predicts IDDPM's variance values (training's hybrid loss needs them). */
  learnSigma: boolean;
}

/** A config of a backbone type registered with registerBackbone: the base fields plus its own. */
export interface CustomBackboneConfig extends BackboneConfigBase {
  [field: string]: unknown;
}

/** Any backbone config a MigeConfig holds: a DiT's (@mige/dit) or a registered type's. */
export type BackboneConfig = DitConfig | CustomBackboneConfig;

/** How to build (and check the config of) one backbone type. */
export interface BackboneFactory<C extends BackboneConfigBase = CustomBackboneConfig> {
  /** Builds the backbone, random-initialised from nn's seeded init (nn.withoutInit: zeros, for loading). */
  create(config: Readonly<C>): DiffusionBackbone;
  /** Checks the type's own fields; throw a MigeInputError naming the field. */
  validate?(config: Readonly<C>): void;
}

const BUILT_IN: readonly string[] = ['pixart', 'dit-adaln-zero'];
const registry = new Map<string, BackboneFactory<CustomBackboneConfig>>();

/**
 * Registers a backbone type, so that a MigeConfig whose `backbone.type` names it builds with
 * `factory.create` (MigeModel.create, loadModel of a folder saved with it, training, the flows).
 * The backbone implements core's DiffusionBackbone; the built-in types are taken.
 */
export function registerBackbone<C extends BackboneConfigBase>(type: string, factory: BackboneFactory<C>): void {
  if (typeof type !== 'string' || !/^[a-z0-9][a-z0-9._-]*$/i.test(type)) throw new MigeInputError(`a backbone type must be a plain name, got ${JSON.stringify(type)}`, 'registerBackbone');
  if (BUILT_IN.includes(type)) throw new MigeInputError(`'${type}' is a built-in backbone type`, 'registerBackbone');
  if (typeof factory?.create !== 'function') throw new MigeInputError('the factory needs a create(config) function', `registerBackbone('${type}')`);
  registry.set(type, factory as unknown as BackboneFactory<CustomBackboneConfig>);
}

/** Removes a registered backbone type (tests; a later registerBackbone replaces it anyway). */
export function unregisterBackbone(type: string): boolean {
  return registry.delete(type);
}

/** The backbone types a config may name: the built-in ones, then the registered ones. */
export function backboneTypes(): string[] {
  return [...BUILT_IN, ...registry.keys()];
}

/** Whether `config` is a DiT's (a built-in type), which the DiT-only tools (ONNX export, PixArt weights) need. */
export function isDitConfig(config: Readonly<BackboneConfig>): config is DitConfig {
  return BUILT_IN.includes(config.type);
}

/** Checks a backbone config: the base fields, then its type's own check. */
export function validateBackboneConfig(config: Readonly<BackboneConfig>): void {
  const where = 'BackboneConfig';
  if (typeof config !== 'object' || config === null) throw new MigeInputError('must be an object', where);
  if (isDitConfig(config)) {
    validateDitConfig(config);
    return;
  }
  const factory = registry.get(config.type);
  if (!factory) throw new MigeInputError(`type is ${JSON.stringify(config.type)}, expected one of ${backboneTypes().map((t) => `'${t}'`).join(', ')} (registerBackbone adds types)`, where);
  for (const k of ['inputSize', 'inChannels', 'hiddenSize', 'captionChannels', 'modelMaxLength'] as const) {
    if (!Number.isInteger(config[k]) || config[k] <= 0) throw new MigeInputError(`${k} must be a positive integer, got ${String(config[k])}`, where);
  }
  if (typeof config.learnSigma !== 'boolean') throw new MigeInputError(`learnSigma must be true or false, got ${String(config.learnSigma)}`, where);
  factory.validate?.(config as CustomBackboneConfig);
}

/** Builds the backbone a config names (checked first). */
export function buildBackbone(config: Readonly<BackboneConfig>): DiffusionBackbone {
  validateBackboneConfig(config);
  if (isDitConfig(config)) return createBackbone(config);
  const backbone = (registry.get(config.type) as BackboneFactory<CustomBackboneConfig>).create(config as CustomBackboneConfig);
  const where = `backbone '${config.type}'`;
  if (backbone.captionChannels !== config.captionChannels || backbone.maxLength !== config.modelMaxLength || backbone.learnSigma !== config.learnSigma) {
    throw new MigeInputError(
      `the backbone built has captionChannels ${backbone.captionChannels}, maxLength ${backbone.maxLength}, learnSigma ${backbone.learnSigma}; its config says ${config.captionChannels}, ${config.modelMaxLength}, ${config.learnSigma}`,
      where,
    );
  }
  if (backbone.patchEmbedder.hiddenSize !== config.hiddenSize || backbone.patchEmbedder.inChannels !== 2 * config.inChannels) {
    throw new MigeInputError(`its patch embedder takes ${backbone.patchEmbedder.inChannels} channels to width ${backbone.patchEmbedder.hiddenSize}; the config needs ${2 * config.inChannels} to ${config.hiddenSize}`, where);
  }
  return backbone;
}
