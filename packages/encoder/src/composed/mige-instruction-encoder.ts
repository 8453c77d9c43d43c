import {
  MigeInputError,
  tf,
  type EncoderInput,
  type InstructionEncodeOptions,
  type InstructionEncoder,
  type InstructionEncoding,
  type TokenMask,
  type TokenSequence,
} from '@mige/core';
import { planSequence, type SequencePlan } from '../instruction/sequence-plan.js';
import type { T5Tokenizer } from '../tokenizer/t5-tokenizer.js';
import { MIGE_ENCODER, type MigeEncoderConfig } from './config.js';
import { imageTokens, type UsedImages } from './image-tokens.js';
import { interleaveRow } from './interleave.js';
import { MigeEncoderModule } from './module.js';
import { prepareBatch, type PreparedItem } from './prepare.js';

/** `get_context_emb`'s output: the T5 encoder's input. */
export interface MixedEmbeddings {
  /** Text and image tokens interleaved, padded / truncated: [B, maxLength, D]. */
  inputsEmbeds: TokenSequence;
  /** [B, maxLength] int32. */
  mask: TokenMask;
  warnings: string[];
}

/**
 * MIGE's multimodal instruction encoder: prompt → T5 token embeddings with each `<imagehere>`
 * replaced by its image's Q-Former tokens (fused with the VAE latent, projected by t5_proj) →
 * T5 encoder → condition y [B, maxLength, D] and its mask.
 */
export class MigeInstructionEncoder implements InstructionEncoder {
  readonly module: MigeEncoderModule;

  /** A new module has random weights; build inside `nn.withoutInit` before loading a checkpoint. */
  constructor(
    readonly tokenizer: T5Tokenizer,
    readonly config: MigeEncoderConfig = MIGE_ENCODER,
  ) {
    const where = 'MigeInstructionEncoder';
    if (!Number.isInteger(config.maxLength) || config.maxLength < 1) throw new MigeInputError(`maxLength must be a positive integer, got ${config.maxLength}`, where);
    if (tokenizer.vocabSize > config.t5.vocabSize) {
      throw new MigeInputError(`the tokenizer's ${tokenizer.vocabSize} tokens exceed the T5 vocabulary of ${config.t5.vocabSize}`, where);
    }
    this.module = new MigeEncoderModule(config);
  }

  get hiddenSize(): number {
    return this.config.t5.dModel;
  }

  get maxLength(): number {
    return this.config.maxLength;
  }

  /** The T5 encoder's input (MIGE's `batch_mixed_embs`, `batch_attn`), with truncation warnings. */
  embed(batch: readonly EncoderInput[], options: InstructionEncodeOptions): MixedEmbeddings {
    const c = this.config;
    const prepared = prepareBatch(batch, { task: options.task ?? 'raw', imageSize: c.vision.imgSize, maxImages: c.maxImages });
    const perImage = c.qformer.numQueryTokens;
    const plans = prepared.map((p) => planSequence(this.tokenizer.encodeSegments(p.segments), perImage, c.maxLength));
    const warnings = plans.flatMap((plan, i) =>
      plan.truncated
        ? [`batch[${i}]: ${plan.contentLength} tokens (text + ${perImage} per image) exceed maxLength ${c.maxLength}; the tail was cut off`]
        : [],
    );
    const { inputsEmbeds, mask } = tf.tidy(() => {
      const used = prepared.map((p, i) => usedImages(p, plans[i] as SequencePlan));
      const tokens = imageTokens(this.module, used, options.fusion, options.patchEmbedder);
      const rows = plans.map((plan, i) => interleaveRow(plan, tokens[i] as tf.Tensor3D, this.module.t5.shared));
      const masks = new Int32Array(plans.length * c.maxLength);
      plans.forEach((plan, i) => masks.set(plan.mask, i * c.maxLength));
      return { inputsEmbeds: tf.stack(rows) as TokenSequence, mask: tf.tensor2d(masks, [plans.length, c.maxLength], 'int32') };
    });
    return { inputsEmbeds, mask, warnings };
  }

  encode(batch: readonly EncoderInput[], options: InstructionEncodeOptions): InstructionEncoding {
    const { inputsEmbeds, mask, warnings } = this.embed(batch, options);
    const y = this.module.t5.forward({ inputsEmbeds, attentionMask: mask });
    // Kept while a gradient tape records: the backward pass still needs it.
    if (!tf.engine().isTapeOn()) inputsEmbeds.dispose();
    return { y, mask, warnings };
  }
}

/** The images whose slots appear in the plan: slots past a truncation are never computed. */
function usedImages(item: PreparedItem, plan: SequencePlan): UsedImages {
  const { images, latents } = item.input;
  const n = plan.spans.filter((s) => s.kind === 'image').length;
  if (n === images.shape[0]) return { images, latents };
  return { images: tf.slice(images, 0, n), latents: tf.slice(latents, 0, n) };
}
