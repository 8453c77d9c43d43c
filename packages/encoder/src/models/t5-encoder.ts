import { checkShapes, MigeInputError, nn, tf, type TokenMask, type TokenSequence } from '@mige/core';
import type { TraceFn } from './heads.js';
import type { T5EncoderConfig } from './t5-config.js';
import { T5Block, T5LayerNorm } from './t5-layers.js';
import { relativePositionBuckets } from './t5-position.js';

/** torch.finfo(float32).min: HF T5's additive value for masked keys. */
const FLOAT32_MIN = -3.4028234663852886e38;

export interface T5EncoderInput {
  /** Token ids [B, L], int32. Give this or `inputsEmbeds`. */
  inputIds?: tf.Tensor2D;
  /** Token embeddings [B, L, D] (MIGE's path: text and image tokens interleaved). */
  inputsEmbeds?: TokenSequence;
  /** [B, L]: 1 for valid tokens, 0 for padding. Default all ones. */
  attentionMask?: TokenMask;
}

export interface T5ForwardOptions {
  /** Receives `relative_position_bucket` [L, L], `position_bias` [1, H, L, L] and `block_out.i` [B, L, D]. */
  trace?: TraceFn;
}

/** T5Stack (encoder half): `embed_tokens` is tied to the parent's `shared`, so not registered here. */
class T5Stack extends nn.Module {
  readonly block: nn.ModuleList<T5Block>;
  readonly finalLayerNorm: T5LayerNorm;
  constructor(c: T5EncoderConfig) {
    super();
    const dims = { dModel: c.dModel, numHeads: c.numHeads, dKv: c.dKv, dFf: c.dFf, eps: c.layerNormEps };
    const blocks = Array.from({ length: c.numLayers }, (_, i) => new T5Block(dims, i === 0 ? c.numBuckets : undefined));
    this.block = this.module('block', new nn.ModuleList(blocks));
    this.finalLayerNorm = this.module('final_layer_norm', new T5LayerNorm(c.dModel, c.layerNormEps));
  }
}

/**
 * HF T5EncoderModel for T5 v1.1 / Flan-T5: `shared` embedding, `encoder.block.N`, and
 * `encoder.final_layer_norm`. `encoder.embed_tokens.weight` is the same tensor as
 * `shared.weight`: it is stored once, `stateDict()` lists both keys as PyTorch does, and
 * `loadStateDict` accepts either or both.
 */
export class T5Encoder extends nn.Module {
  readonly shared: nn.Embedding;
  readonly encoder: T5Stack;

  constructor(readonly config: T5EncoderConfig) {
    super();
    this.shared = this.module('shared', new nn.Embedding(config.vocabSize, config.dModel));
    this.encoder = this.module('encoder', new T5Stack(config));
  }

  /** last_hidden_state [B, L, D]; padded query rows are computed too (only keys are masked). */
  forward(input: T5EncoderInput, options: T5ForwardOptions = {}): TokenSequence {
    const { batch, length } = this.checkInput(input);
    const trace = options.trace ?? (() => undefined);
    const c = this.config;
    return tf.tidy(() => {
      let h: tf.Tensor3D = input.inputIds
        ? (this.shared.forward(input.inputIds) as tf.Tensor3D)
        : tf.cast(input.inputsEmbeds as tf.Tensor3D, 'float32');
      const buckets = relativePositionBuckets(length, c.numBuckets, c.maxDistance);
      trace('relative_position_bucket', buckets);
      const table = this.encoder.block.at(0).selfAttention.relativeAttentionBias as nn.Embedding;
      // [L, L, H] → [1, H, L, L], computed once from block 0's table and shared by every block.
      const positionBias = tf.expandDims(tf.transpose(table.forward(buckets), [2, 0, 1]), 0);
      trace('position_bias', positionBias);
      const mask = input.attentionMask
        ? tf.reshape(tf.mul(tf.sub(1, tf.cast(input.attentionMask, 'float32')), FLOAT32_MIN), [batch, 1, 1, length])
        : tf.zeros([batch, 1, 1, length]);
      const bias = tf.reshape(tf.add(positionBias, mask), [batch * c.numHeads, length, length]) as tf.Tensor3D;
      const recording = tf.engine().isTapeOn();
      this.encoder.block.items.forEach((block, i) => {
        const prev = h;
        h = tf.tidy(() => block.forward(prev, bias));
        trace(`block_out.${i}`, h);
        // Inference keeps one activation alive at a time (never the caller's inputsEmbeds).
        if (!recording && prev !== input.inputsEmbeds) prev.dispose();
      });
      return this.encoder.finalLayerNorm.forward(h) as TokenSequence;
    });
  }

  /** Parameters and buffers, with `encoder.embed_tokens.weight` listed as the same tensor as `shared.weight`. */
  override stateDict(prefix = '', into = new Map<string, tf.Tensor>()): Map<string, tf.Tensor> {
    const own = super.stateDict(prefix);
    for (const [k, v] of own) {
      into.set(k, v);
      if (k === `${prefix}shared.weight`) into.set(`${prefix}encoder.embed_tokens.weight`, v);
    }
    return into;
  }

  override loadStateDict(source: nn.StateDict | nn.TensorReader, options: nn.LoadOptions = {}): nn.LoadReport {
    return super.loadStateDict(tiedT5Embeddings(source), options);
  }

  private checkInput(input: T5EncoderInput): { batch: number; length: number } {
    const where = 'T5Encoder.forward';
    const { inputIds, inputsEmbeds, attentionMask } = input;
    if ((inputIds === undefined) === (inputsEmbeds === undefined)) {
      throw new MigeInputError('give exactly one of inputIds [B, L] and inputsEmbeds [B, L, D]', where);
    }
    const dims = inputIds
      ? checkShapes(where, { inputIds: [inputIds, ['B', 'L']] })
      : checkShapes(where, { inputsEmbeds: [inputsEmbeds, ['B', 'L', this.config.dModel]] });
    if (attentionMask) checkShapes(where, { attentionMask: [attentionMask, [dims.B as number, dims.L as number]] });
    const batch = dims.B as number, length = dims.L as number;
    if (batch === 0 || length === 0) throw new MigeInputError('the batch and the sequence must not be empty', where);
    if (inputIds) {
      if (inputIds.dtype !== 'int32') throw new MigeInputError(`inputIds must be int32, got ${inputIds.dtype}`, where);
      const ids = inputIds.dataSync();
      const bad = ids.find((id) => id < 0 || id >= this.config.vocabSize);
      if (bad !== undefined) throw new MigeInputError(`token id ${bad} is outside the vocabulary [0, ${this.config.vocabSize})`, where);
    }
    if (attentionMask && attentionMask.dataSync().some((m) => m !== 0 && m !== 1)) {
      throw new MigeInputError('attentionMask must hold only 0 and 1', where);
    }
    return { batch, length };
  }
}

/**
 * A view of a T5 checkpoint in which the tied embedding appears once, as `prefix + shared.weight`:
 * `encoder.embed_tokens.weight` is dropped when `shared.weight` is present, and renamed to it
 * otherwise (some exports keep only one of the two). Use it with the prefix MIGE gives the
 * encoder (`t5_model.`) when loading a whole MIGE checkpoint.
 */
export function tiedT5Embeddings(source: nn.StateDict | nn.TensorReader, prefix = ''): nn.TensorReader {
  const keys = new Set(source instanceof Map ? source.keys() : source.keys());
  const shared = `${prefix}shared.weight`, tied = `${prefix}encoder.embed_tokens.weight`;
  const hasShared = keys.has(shared);
  return nn.renameKeys(source, (k) => (k !== tied ? k : hasShared ? undefined : shared));
}

/** A T5 encoder with random (or, inside nn.withoutInit, zero) weights. */
export function createT5Encoder(config: T5EncoderConfig): T5Encoder {
  return new T5Encoder(config);
}
