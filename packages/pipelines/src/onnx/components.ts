import type { tf } from '@mige/core';

/** The exported components, one .onnx file each (`<name>.onnx`). */
export const ONNX_COMPONENTS = ['vae-encoder', 'vae-decoder', 'dit', 'vit', 'qformer', 'ffm', 't5-proj', 't5-embed', 't5-encoder'] as const;
export type OnnxComponent = (typeof ONNX_COMPONENTS)[number];

/**
 * Each component's inputs as tf tensors (float32 values; other dtypes are cast). Keys are the
 * camelCase forms of the ONNX value names (`inputsEmbeds` ↔ `inputs_embeds`).
 */
export interface OnnxComponentInputs {
  /** images [B, 3, S, S] in [-1, 1]. */
  'vae-encoder': { images: tf.Tensor4D };
  /** unscaled latents [B, 4, h, w] (divide sampled latents by the scaling factor first). */
  'vae-decoder': { latents: tf.Tensor4D };
  /** x, cond [B, 4, h, w]; t [B] (0..999); y [B, L, C]; mask [B, L] (1 valid, 0 padding). */
  dit: { x: tf.Tensor4D; cond: tf.Tensor4D; t: tf.Tensor1D; y: tf.Tensor3D; mask: tf.Tensor2D };
  /** images [B, 3, S, S] normalised as blipEvalTransform does. */
  vit: { images: tf.Tensor4D };
  /** ln_vision output [B, 1 + N, Dv]. */
  qformer: { imageEmbeds: tf.Tensor3D };
  /** Q-Former tokens [B, Q, D] and the reference latent [B, 4, h, w]. */
  ffm: { queryTokens: tf.Tensor3D; latents: tf.Tensor4D };
  /** Q-Former (or fused) tokens [B, Q, D]. */
  't5-proj': { queryOutput: tf.Tensor3D };
  /** Token ids [B, L] (as float32: ids up to 2^24 are exact), through T5's `shared` embedding. */
  't5-embed': { inputIds: tf.Tensor2D };
  /** inputs_embeds [B, L, D] and attention_mask [B, L] (1 valid, 0 padding), L ≤ the exported maximum. */
  't5-encoder': { inputsEmbeds: tf.Tensor3D; attentionMask: tf.Tensor2D };
}

/** Each component's outputs; the caller disposes them. */
export interface OnnxComponentOutputs {
  /** [B, 2·4, h, w]: mean ‖ logvar, as AutoencoderKL.encodeMoments (unclamped). */
  'vae-encoder': { moments: tf.Tensor4D };
  /** [B, 3, S, S], nominally in [-1, 1], not clamped. */
  'vae-decoder': { images: tf.Tensor4D };
  /** ε [B, 4, h, w] and, with learnSigma, the variance values [B, 4, h, w]. */
  dit: { eps: tf.Tensor4D; variance?: tf.Tensor4D };
  vit: { imageEmbeds: tf.Tensor3D };
  qformer: { queryOutput: tf.Tensor3D };
  ffm: { fused: tf.Tensor3D };
  't5-proj': { projected: tf.Tensor3D };
  /** [B, L, D_t5]. */
  't5-embed': { embeddings: tf.Tensor3D };
  't5-encoder': { lastHiddenState: tf.Tensor3D };
}

/** A component's input and output keys, in the graph's order. */
export const COMPONENT_IO: { [C in OnnxComponent]: { inputs: readonly (keyof OnnxComponentInputs[C])[]; outputs: readonly (keyof OnnxComponentOutputs[C])[] } } = {
  'vae-encoder': { inputs: ['images'], outputs: ['moments'] },
  'vae-decoder': { inputs: ['latents'], outputs: ['images'] },
  dit: { inputs: ['x', 'cond', 't', 'y', 'mask'], outputs: ['eps', 'variance'] },
  vit: { inputs: ['images'], outputs: ['imageEmbeds'] },
  qformer: { inputs: ['imageEmbeds'], outputs: ['queryOutput'] },
  ffm: { inputs: ['queryTokens', 'latents'], outputs: ['fused'] },
  't5-proj': { inputs: ['queryOutput'], outputs: ['projected'] },
  't5-embed': { inputs: ['inputIds'], outputs: ['embeddings'] },
  't5-encoder': { inputs: ['inputsEmbeds', 'attentionMask'], outputs: ['lastHiddenState'] },
};

/** camelCase key → the ONNX value name (snake_case, as HF exports name them). */
export function onnxValueName(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** ONNX value name → the camelCase key. */
export function valueKey(onnxName: string): string {
  return onnxName.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
}
