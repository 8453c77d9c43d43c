import { checkShapes, MigeInputError, nn, tf, type BackboneInput } from '@mige/core';
import { derivedSizes, validateConfig, type DerivedSizes, type DitConfig } from './config.js';
import { CaptionEmbedder, PatchEmbed, sincosPositionTable, TimestepEmbedder } from './embedders.js';
import { basicLinearInit, normalParamInit, xavierInit } from './init.js';
import { crossAttentionBias } from './layers.js';

/** One transformer block: x [B, N, D], y [B, L, D], c [B, ·] (its conditioning), bias [B·heads, 1, L]. */
export interface DitBlock extends nn.Module {
  forward(x: tf.Tensor3D, y: tf.Tensor3D, c: tf.Tensor2D, crossBias: tf.Tensor3D): tf.Tensor3D;
}

/** The last layer: x [B, N, D], t [B, D] → [B, N, p·p·outChannels]. */
export interface DitFinalLayer extends nn.Module {
  forward(x: tf.Tensor3D, t: tf.Tensor2D): tf.Tensor3D;
}

export interface DitOptions {
  /**
   * Keep a transposed copy of each Linear weight between inference calls (faster on wasm, three
   * weight copies in memory). Default: only when the weights take at most 1 GiB.
   */
  cacheTransposedWeights?: boolean;
}

export interface DitForwardOptions {
  /**
   * Receives the intermediates under the reference's names (`x_embedder_out` before pos_embed,
   * `t_embedder_out`, `t_block_out`, `y_embedder_out`, `block_out.i`, `final_layer_out`). They are
   * freed when forward returns: copy (`tf.keep(v.clone())`) or read what you keep.
   */
  trace?: (name: string, value: tf.Tensor) => void;
}

const WEIGHT_CACHE_LIMIT_BYTES = 2 ** 30;

/**
 * What MIGE's DiT and its swappable alternatives share: the patch embedding of [noisy latent ;
 * conditional input] plus a fixed sin-cos `pos_embed` buffer, the timestep embedder, the caption
 * embedder with its null caption, cross-attention masks, the final layer and unpatchify. A
 * subclass supplies the blocks, the final layer and what the blocks are conditioned on.
 */
export abstract class ConditionalDiT extends nn.Module {
  readonly sizes: DerivedSizes;
  readonly xEmbedder: PatchEmbed;
  readonly tEmbedder: TimestepEmbedder;
  readonly yEmbedder: CaptionEmbedder;
  abstract readonly blocks: nn.ModuleList<DitBlock>;
  abstract readonly finalLayer: DitFinalLayer;

  constructor(readonly config: Readonly<DitConfig>) {
    validateConfig(config);
    super();
    const s = (this.sizes = derivedSizes(config));
    const d = config.hiddenSize;
    this.xEmbedder = this.module('x_embedder', new PatchEmbed(config.patchSize, s.embedChannels, d));
    this.tEmbedder = this.module('t_embedder', new TimestepEmbedder(d));
    // PixArt: base_size = input_size // patch_size, so at the native size the table is plain indices.
    const table = sincosPositionTable(d, s.gridSize, s.gridSize, config.leweiScale);
    this.buffer('pos_embed', tf.tensor3d(table, [1, s.numPatches, d]));
    this.yEmbedder = this.module('y_embedder', new CaptionEmbedder(config.captionChannels, d, config.modelMaxLength));
  }

  /** [1, numPatches, D] */
  get posEmbed(): tf.Tensor3D {
    return this.getBuffer('pos_embed') as tf.Tensor3D;
  }

  /** What the blocks get from t [B, D]: PixArt's shared `t_block` output, or t itself. */
  protected abstract blockCondition(t: tf.Tensor2D): tf.Tensor2D;

  /** The reference's initialisation for the subclass's own parts (after the shared ones). */
  protected abstract initializeOwnWeights(): void;

  /** Subclass constructors end with this: reference init (unless built in nn.withoutInit), weight cache. */
  protected finishConstruction(options: DitOptions): void {
    if (!nn.isInitSkipped()) this.initializeWeights();
    const cache = options.cacheTransposedWeights ?? this.numParameters() * 4 <= WEIGHT_CACHE_LIMIT_BYTES;
    nn.setTransposedWeightCache(this, cache);
  }

  /** PixArt's `initialize_weights` for the shared parts, then the subclass's. */
  initializeWeights(): void {
    basicLinearInit(this);
    // The patch embedding is initialised like a Linear over its flattened kernel; its bias keeps
    // Conv2d's default.
    xavierInit(this.xEmbedder.proj.weight);
    for (const fc of [this.tEmbedder.fc1, this.tEmbedder.fc2, this.yEmbedder.yProj.fc1, this.yEmbedder.yProj.fc2]) {
      normalParamInit(fc.weight, 0.02);
    }
    this.yEmbedder.setNullCaption(nn.normalInit([this.config.modelMaxLength, this.config.captionChannels], 1 / Math.sqrt(this.config.captionChannels)));
    this.initializeOwnWeights();
  }

  /**
   * The full output [B, outChannels, H, W]: channels [0, inChannels) are ε, the rest (with
   * learnSigma) the variance values. Inputs as core's BackboneInput; shapes are checked.
   */
  forward(input: BackboneInput, options: DitForwardOptions = {}): tf.Tensor4D {
    this.checkInput(input);
    const trace = options.trace ?? (() => undefined);
    const { x, cond, t, y, mask } = input;
    return tf.tidy(() => {
      const tokens = this.xEmbedder.embed(tf.concat([x, cond], 1));
      trace('x_embedder_out', tokens);
      let h = tf.add(tokens, this.posEmbed) as tf.Tensor3D;
      const tEmb = this.tEmbedder.forward(t);
      trace('t_embedder_out', tEmb);
      const c = this.blockCondition(tEmb);
      if (c !== tEmb) trace('t_block_out', c);
      const yEmb = this.yEmbedder.forward(tf.cast(y, 'float32') as tf.Tensor3D);
      trace('y_embedder_out', yEmb);
      const bias = crossAttentionBias(mask, this.config.numHeads);
      const recording = tf.engine().isTapeOn();
      this.blocks.items.forEach((block, i) => {
        const prev = h;
        h = tf.tidy(() => block.forward(prev, yEmb, c, bias));
        trace(`block_out.${i}`, h);
        // Without a gradient tape nothing needs the previous activation; XL at batch 3 would
        // otherwise hold 28 of them.
        if (!recording) prev.dispose();
      });
      const out = this.finalLayer.forward(h, tEmb);
      trace('final_layer_out', out);
      return this.unpatchify(out);
    });
  }

  /** [B, N, p·p·c] → [B, c, H, W] (PixArt's 'nhwpqc->nchpwq'). */
  unpatchify(x: tf.Tensor3D): tf.Tensor4D {
    const p = this.config.patchSize, g = this.sizes.gridSize, c = this.sizes.outChannels;
    const b = x.shape[0];
    const grid = tf.reshape(x, [b, g, g, p, p, c]);
    return tf.reshape(tf.transpose(grid, [0, 5, 1, 3, 2, 4]), [b, c, g * p, g * p]);
  }

  /** Throws a MigeInputError naming the tensor, the expected and the actual shape or values. */
  checkInput(input: BackboneInput): void {
    const where = `${this.constructor.name}.forward`;
    const c = this.config, size = c.inputSize;
    const dims = checkShapes(where, {
      x: [input.x, ['B', c.inChannels, size, size]],
      cond: [input.cond, ['B', c.inChannels, size, size]],
      t: [input.t, ['B']],
      y: [input.y, ['B', 'L', c.captionChannels]],
      mask: [input.mask, ['B', 'L']],
    });
    const l = dims.L as number;
    if (l > c.modelMaxLength) {
      throw new MigeInputError(`y has ${l} tokens; this model takes at most ${c.modelMaxLength} (modelMaxLength)`, where);
    }
    const mask = input.mask.dataSync();
    for (let b = 0; b * l < mask.length; b++) {
      let valid = 0;
      for (let j = 0; j < l; j++) {
        const m = mask[b * l + j] as number;
        if (m !== 0 && m !== 1) throw new MigeInputError(`mask[${b}, ${j}] is ${m}; expected 1 (valid token) or 0 (padding)`, where);
        valid += m;
      }
      if (valid === 0) throw new MigeInputError(`mask[${b}] has no valid token: cross-attention needs at least one`, where);
    }
  }
}
