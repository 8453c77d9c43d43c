import { MigeInputError, nn, type DiffusionBackbone, type FeatureFusion, type tf } from '@mige/core';
import { lavisQFormerKey, MigeInstructionEncoder, tiedT5Embeddings, type T5Tokenizer } from '@mige/encoder';
import { createFusion } from '@mige/fusion';
import { createAutoencoderKL, type AutoencoderKL } from '@mige/vae';
import { tinyTokenizer } from './assets.js';
import { buildBackbone } from './backbones.js';
import { latentSizeOf, validateMigeConfig, type MigeConfig } from './config.js';
import { checkTokenizerFits } from './config-bounds.js';

/** Where MIGE keeps the FFM inside its model (`self.FFM = FFM()`). */
export const FFM_PREFIX = 'FFM.';
/** T5's input embedding, listed in state dicts as PyTorch does but the same tensor as `t5_model.shared.weight`. */
export const T5_TIED_ALIAS = 't5_model.encoder.embed_tokens.weight';

export interface CreateMigeOptions {
  /** Required unless the T5 vocabulary is the shipped tiny tokenizer's (2100, as mige-tiny). */
  tokenizer?: T5Tokenizer;
  /** Seeds nn.manualSeed before the random init (default 0), so equal seeds give equal weights. */
  seed?: number;
}

export interface MigeLoadOptions {
  /** Throw (changing nothing) when anything is missing, unexpected or misshapen. Default true. */
  strict?: boolean;
  /** Labels errors, such as the checkpoint path. */
  source?: string;
}

export interface MigeParameterCounts {
  encoder: number;
  fusion: number;
  backbone: number;
  vae: number;
  /** Parameters outside `config.frozen` (the VAE never trains). */
  trainable: number;
  /** encoder + fusion + backbone + vae. */
  total: number;
}

/**
 * MIGE's components assembled from one MigeConfig: the multimodal instruction encoder (EVA ViT,
 * Q-Former, t5_proj, T5), the fusion (FFM), the diffusion backbone and the VAE. Weights use the
 * official checkpoint's names: the encoder's own (`visual_encoder.`, `ln_vision.`, `Qformer.`,
 * `query_tokens`, `t5_proj.`, `t5_model.`), `FFM.` for fusion and the DiT's at the top level.
 * The VAE is not part of that state (MIGE loads it from its own folder).
 */
export class MigeModel {
  private constructor(
    readonly config: Readonly<MigeConfig>,
    readonly tokenizer: T5Tokenizer,
    readonly encoder: MigeInstructionEncoder,
    readonly fusion: FeatureFusion,
    readonly backbone: DiffusionBackbone,
    readonly vae: AutoencoderKL,
  ) {}

  /** A model with random weights (PyTorch-style init, deterministic per seed). */
  static create(config: Readonly<MigeConfig>, options: CreateMigeOptions = {}): MigeModel {
    nn.manualSeed(options.seed ?? 0);
    return MigeModel.build(config, options.tokenizer, true);
  }

  /**
   * The model's module tree with shape-only parameters (nn.withoutWeights) and real buffers: what
   * the ONNX export needs to emit the graphs when the weights are streamed from checkpoint files
   * (official sizes: T5-XXL alone is 19 GB). It cannot run in TF.js; `hasWeights()` is false.
   */
  static skeleton(config: Readonly<MigeConfig>, tokenizer?: T5Tokenizer): MigeModel {
    return nn.withoutWeights(() => MigeModel.build(config, tokenizer, false));
  }

  /**
   * Builds the components; `init` false gives zero-filled weights fast (nn.withoutInit), for
   * loading right after. Frozen parameters are marked non-trainable.
   */
  static build(config: Readonly<MigeConfig>, tokenizer: T5Tokenizer | undefined, init: boolean): MigeModel {
    validateMigeConfig(config, `MigeConfig ${JSON.stringify(config.name)}`);
    const tok = tokenizer ?? defaultTokenizer(config);
    checkTokenizerFits(tok, config.encoder.t5.vocabSize, `MigeConfig ${JSON.stringify(config.name)}`);
    const make = (): MigeModel => {
      const encoder = new MigeInstructionEncoder(tok, config.encoder);
      const fusion = createFusion(config.fusion);
      const backbone = buildBackbone(config.backbone);
      const vae = createAutoencoderKL(config.vae, { init });
      return new MigeModel(Object.freeze(structuredClone(config) as MigeConfig), tok, encoder, fusion, backbone, vae);
    };
    const model = init ? make() : nn.withoutInit(make);
    for (const [name, p] of model.namedParameters()) if (model.isFrozen(name)) p.trainable = false;
    return model;
  }

  /** Whether `name` (an official name) falls under a `config.frozen` prefix. */
  isFrozen(name: string): boolean {
    return this.config.frozen.some((prefix) => name.startsWith(prefix));
  }

  /** The MIGE model's parameters and buffers under the official names (no VAE): the tensors themselves. */
  stateDict(): Map<string, tf.Tensor> {
    const sd = this.encoder.module.stateDict();
    this.fusion.module?.stateDict(FFM_PREFIX, sd);
    const backbone = this.backbone.module.stateDict();
    for (const [k, t] of backbone) {
      if (sd.has(k)) throw new Error(`the backbone's ${k} collides with an encoder / fusion name`);
      sd.set(k, t);
    }
    return sd;
  }

  /** Every parameter under its official name, VAE excluded. */
  namedParameters(): [string, tf.Variable][] {
    return [
      ...this.encoder.module.namedParameters(),
      ...(this.fusion.module?.namedParameters(FFM_PREFIX) ?? []),
      ...this.backbone.module.namedParameters(),
    ];
  }

  /** The parameters training updates: namedParameters minus the `config.frozen` prefixes. */
  trainableParameters(): [string, tf.Variable][] {
    return this.namedParameters().filter(([name]) => !this.isFrozen(name));
  }

  /**
   * Loads official names (a state dict or a lazy reader such as a SafetensorsReader): the tied
   * `t5_model.encoder.embed_tokens.weight` and the Q-Former's unused text-path tensors are
   * accepted and ignored as the encoder does. The report names keys in full. Strict (default):
   * any missing, unexpected or misshapen tensor throws before anything changes.
   */
  loadStateDict(source: nn.StateDict | nn.TensorReader, options: MigeLoadOptions = {}): nn.LoadReport {
    const { reader, report } = this.planLoad(source);
    const bad = report.missing.length + report.unexpected.length + report.mismatched.length;
    if ((options.strict ?? true) && bad > 0) throw new MigeInputError(nn.describeLoadReport(report), options.source ?? 'MigeModel.loadStateDict');
    this.loadPlanned(reader, options.source ?? 'MigeModel.loadStateDict');
    return report;
  }

  /**
   * What loadStateDict would do, reading nothing: `source` under the model's own names (the tied T5
   * alias and the Q-Former's text path handled), only the tensors that fit (unexpected and
   * misshapen ones left out), and the report.
   */
  planLoad(source: nn.StateDict | nn.TensorReader): { reader: nn.TensorReader; report: nn.LoadReport } {
    const src = nn.renameKeys(tiedT5Embeddings(source, 't5_model.'), lavisQFormerKey);
    const own = this.stateDict();
    own.delete(T5_TIED_ALIAS); // loads through t5_model.shared.weight
    const report: nn.LoadReport = { missing: [], unexpected: [], mismatched: [] };
    const keys = [...src.keys()];
    const present = new Set(keys);
    for (const k of own.keys()) if (!present.has(k)) report.missing.push(k);
    for (const k of keys) {
      const target = own.get(k);
      if (!target) report.unexpected.push(k);
      else {
        const shape = [...src.info(k).shape];
        if (shape.length !== target.shape.length || shape.some((d, i) => d !== target.shape[i])) {
          report.mismatched.push({ key: k, expected: [...target.shape], actual: shape });
        }
      }
    }
    const skip = new Set([...report.unexpected, ...report.mismatched.map((m) => m.key)]);
    return { reader: nn.renameKeys(src, (k) => (skip.has(k) ? undefined : k)), report };
  }

  /** Copies a planned reader's tensors (official names, all known and well shaped) into the components. */
  private loadPlanned(reader: nn.TensorReader, source: string): void {
    const encoderKeys = new Set(this.encoder.module.stateDict().keys());
    const part = (accept: (k: string) => string | undefined): nn.TensorReader => nn.renameKeys(reader, accept);
    const partOptions = { strict: false, source };
    this.encoder.module.loadStateDict(part((k) => (encoderKeys.has(k) ? k : undefined)), partOptions);
    this.fusion.module?.loadStateDict(part((k) => (k.startsWith(FFM_PREFIX) ? k.slice(FFM_PREFIX.length) : undefined)), partOptions);
    this.backbone.module.loadStateDict(part((k) => (encoderKeys.has(k) || k.startsWith(FFM_PREFIX) ? undefined : k)), partOptions);
  }

  /** Names of the model's buffers (saved, never trained: the DiT's pos_embed and null caption), VAE excluded. */
  bufferNames(): Set<string> {
    const params = new Set(this.namedParameters().map(([n]) => n));
    return new Set([...this.stateDict().keys()].filter((k) => !params.has(k)));
  }

  /** False for a skeleton (MigeModel.skeleton): its parameters have shapes and no data. */
  hasWeights(): boolean {
    return this.encoder.module.hasWeights() && (this.fusion.module?.hasWeights() ?? true) && this.backbone.module.hasWeights() && this.vae.hasWeights();
  }

  parameterCounts(): MigeParameterCounts {
    const count = (ps: [string, tf.Variable][]): number => ps.reduce((n, [, p]) => n + p.size, 0);
    const encoder = this.encoder.module.numParameters();
    const fusion = this.fusion.module?.numParameters() ?? 0;
    const backbone = this.backbone.module.numParameters();
    const vae = this.vae.numParameters();
    return { encoder, fusion, backbone, vae, trainable: count(this.trainableParameters()), total: encoder + fusion + backbone + vae };
  }

  /** Latent side: imageSize / the VAE's downsample factor. */
  latentSize(): number {
    return latentSizeOf(this.config);
  }

  dispose(): void {
    this.encoder.module.dispose();
    this.fusion.module?.dispose();
    this.backbone.module.dispose();
    this.vae.dispose();
  }
}

function defaultTokenizer(config: Readonly<MigeConfig>): T5Tokenizer {
  const tok = tinyTokenizer();
  if (config.encoder.t5.vocabSize === tok.vocabSize) return tok;
  throw new MigeInputError(
    `needs a tokenizer (its T5 vocabulary has ${config.encoder.t5.vocabSize} tokens; the shipped tiny tokenizer has ${tok.vocabSize}): pass options.tokenizer`,
    `MigeConfig ${JSON.stringify(config.name)}`,
  );
}
