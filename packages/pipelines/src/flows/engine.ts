import { tf, type BackboneInput, type EncoderInput, type ImageBatch, type InstructionEncoding, type LatentDistribution, type Latents } from '@mige/core';
import type { MigeModel } from '../model/index.js';

/** A latent distribution that owns its tensors (the VAE encoder's output). */
export interface OwnedLatentDistribution extends LatentDistribution {
  dispose(): void;
}

/**
 * Where a flow runs its networks. The flows keep everything else (image preprocessing, seeds,
 * latent sampling, tokenising, the guidance batch, the sampler) in TF.js, so two engines given
 * the same request and seed compute the same thing. Every method returns tensors the caller
 * disposes and leaves its inputs alone.
 */
export interface FlowEngine {
  /** 'tfjs' or 'onnx' (recorded in each image's parameters). */
  readonly name: string;
  /** VAE encoder: images [n ≥ 1, 3, S, S] in [-1, 1] → the latent distribution (unscaled). */
  vaeEncode(images: tf.Tensor4D): Promise<OwnedLatentDistribution>;
  /** The instruction encoder: items → condition y [B, L, D], mask [B, L] int32 and warnings. */
  encode(inputs: readonly EncoderInput[]): Promise<InstructionEncoding>;
  /**
   * One backbone call on the k·B guidance rows → ε [k·B, 4, h, w]. Synchronous engines return
   * the tensor (the sampler's tidy frees their intermediates); async ones a promise.
   */
  denoiseStep(input: BackboneInput): Latents | Promise<Latents>;
  /** VAE decoder: unscaled latents [N, 4, h, w] → images [N, 3, S, S] (nominally [-1, 1]). */
  vaeDecode(latents: Latents): Promise<ImageBatch>;
}

/** Today's behaviour: every network is the model's own TF.js module on the active backend. */
export function tfjsEngine(model: MigeModel): FlowEngine {
  return {
    name: 'tfjs',
    vaeEncode: (images) => Promise.resolve(model.vae.encode(images)),
    encode: (inputs) => Promise.resolve(model.encoder.encode(inputs, { fusion: model.fusion, patchEmbedder: model.backbone.patchEmbedder })),
    denoiseStep: (input) => tf.tidy(() => model.backbone.forward(input).eps),
    vaeDecode: (latents) => Promise.resolve(model.vae.decode(latents)),
  };
}
