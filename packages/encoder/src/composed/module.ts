import { nn, type tf } from '@mige/core';
import { QFormer } from '../models/qformer.js';
import { lavisQFormerKey } from '../models/qformer-keys.js';
import { createT5Proj } from '../models/t5-proj.js';
import { T5Encoder, tiedT5Embeddings } from '../models/t5-encoder.js';
import { VisionEncoder } from '../models/vision-encoder.js';
import type { MigeEncoderConfig } from './config.js';

/**
 * The encoder's networks under MIGE's checkpoint names: `visual_encoder.*`, `ln_vision.*`,
 * `Qformer.*`, `query_tokens`, `t5_proj.*` and `t5_model.*` (the rest of a MIGE checkpoint,
 * `FFM.*` and the backbone, belongs to fusion and the DiT).
 */
export class MigeEncoderModule extends nn.Module {
  readonly vision: VisionEncoder;
  readonly qformer: QFormer;
  readonly t5Proj: nn.Linear;
  readonly t5: T5Encoder;

  constructor(readonly config: MigeEncoderConfig) {
    super();
    this.vision = new VisionEncoder(config.vision);
    this.qformer = new QFormer(config.qformer);
    // MIGE keeps these at the top level of its model, not under a vision / qformer prefix, so
    // the sub-modules' children are registered here directly.
    this.module('visual_encoder', this.vision.visualEncoder);
    this.module('ln_vision', this.vision.lnVision);
    this.module('Qformer', this.qformer.qformer);
    this.t5Proj = this.module('t5_proj', createT5Proj(config.qformer.hiddenSize, config.t5.dModel));
    this.t5 = this.module('t5_model', new T5Encoder(config.t5));
  }

  /** query_tokens is a parameter of the QFormer object, listed at the top level as MIGE does. */
  override namedParameters(prefix = ''): [string, tf.Variable][] {
    return [...super.namedParameters(prefix), [`${prefix}query_tokens`, this.qformer.queryTokens]];
  }

  override stateDict(prefix = '', into = new Map<string, tf.Tensor>()): Map<string, tf.Tensor> {
    super.stateDict(prefix, into);
    into.set(`${prefix}query_tokens`, this.qformer.queryTokens);
    return into;
  }

  /**
   * Takes MIGE's names; the tied `t5_model.encoder.embed_tokens.weight` may be present or not,
   * and the Q-Former's unused text-path tensors (`position_ids`, …) are dropped, not reported.
   */
  override loadStateDict(source: nn.StateDict | nn.TensorReader, options: nn.LoadOptions = {}): nn.LoadReport {
    return super.loadStateDict(nn.renameKeys(tiedT5Embeddings(source, 't5_model.'), lavisQFormerKey), options);
  }

  override dispose(): void {
    super.dispose();
    this.qformer.queryTokens.dispose();
  }
}
