import {
  assertRgbImage,
  blipEvalTransformBatch,
  MigeInputError,
  tf,
  vaeTransformBatch,
  type EncoderInput,
  type InstructionEncoding,
  type InstructionTask,
  type Latents,
  type RgbImage,
  type Rng,
} from '@mige/core';
import type { MigeModel } from './mige-model.js';

/** One multimodal instruction as a user gives it: one `<imagehere>` in `text` per image. */
export interface Instruction {
  text: string;
  images: RgbImage[];
  /** Overrides the call's task for this item. */
  task?: InstructionTask;
}

export type LatentMode = 'sample' | 'mean';

export interface EncodeInstructionsOptions {
  /** How prompts are built for items without their own task (default 'raw'). */
  task?: InstructionTask;
  /** Reference latents: 'sample' (as MIGE does: needs `rngs`) or 'mean'. Default: 'sample' with rngs, else 'mean'. */
  latents?: LatentMode;
  /** One generator per image, over all items' images in order (for 'sample'). */
  rngs?: Rng[];
}

/**
 * RGB images → ViT input [n, 3, S, S] (BLIP's eval transform at the encoder's vision imgSize)
 * and VAE input [n, 3, H, W] in [-1, 1] (MIGE's VAE transform at config.imageSize).
 */
export function prepareImages(model: MigeModel, images: readonly RgbImage[]): { vit: tf.Tensor4D; vae: tf.Tensor4D } {
  const s = model.config.encoder.vision.imgSize;
  const size = model.config.imageSize;
  if (images.length === 0) return { vit: tf.zeros([0, 3, s, s]), vae: tf.zeros([0, 3, size, size]) };
  images.forEach((img, i) => assertRgbImage(img, `images[${i}]`));
  return { vit: blipEvalTransformBatch(images, s), vae: vaeTransformBatch(images, size) };
}

/**
 * VAE latents [n, C, h, w] of images [n, 3, H, W], unscaled: 'sample' = mean + std·ε with
 * rngs[i] drawing image i's ε (what the reference does), 'mean' = the distribution's mean.
 * `encoder` stands in for the model's VAE encoder (training's LatentCache).
 */
export function encodeLatents(
  model: MigeModel,
  vaeImages: tf.Tensor4D,
  mode: LatentMode,
  rngs?: readonly Rng[],
  encoder: Pick<MigeModel['vae'], 'encode'> = model.vae,
): Latents {
  const n = vaeImages.shape[0];
  const where = 'encodeLatents';
  if (mode !== 'sample' && mode !== 'mean') throw new MigeInputError(`mode must be 'sample' or 'mean', got ${JSON.stringify(mode)}`, where);
  if (mode === 'sample' && rngs?.length !== n) {
    throw new MigeInputError(`'sample' needs one Rng per image: got ${rngs?.length ?? 'none'} for ${n} image(s)`, where);
  }
  if (n === 0) {
    const h = model.latentSize();
    return tf.zeros([0, model.vae.latentChannels, h, h]);
  }
  const dist = encoder.encode(vaeImages);
  try {
    return mode === 'mean' ? dist.mode() : dist.sample([...(rngs as Rng[])]);
  } finally {
    dist.dispose();
  }
}

function checkItems(items: readonly Instruction[]): void {
  if (!Array.isArray(items) || items.length === 0) throw new MigeInputError('expected a non-empty array of instructions', 'items');
  items.forEach((item, i) => {
    if (typeof item !== 'object' || item === null) throw new MigeInputError('must be an object { text, images }', `items[${i}]`);
    if (typeof item.text !== 'string') throw new MigeInputError(`text must be a string, got ${typeof item.text}`, `items[${i}]`);
    if (!Array.isArray(item.images)) throw new MigeInputError('images must be an array of RGB images (empty for none)', `items[${i}]`);
  });
}

/**
 * Instructions → condition y [B, L, D] and mask [B, L] through the model's encoder, with the
 * model's fusion and the backbone's patch embedder. All images of the batch are preprocessed
 * and VAE-encoded together; `rngs` (for 'sample') has one generator per image, items in order.
 */
export function encodeInstructions(model: MigeModel, items: readonly Instruction[], options: EncodeInstructionsOptions = {}): InstructionEncoding {
  checkItems(items);
  const mode = options.latents ?? (options.rngs ? 'sample' : 'mean');
  const all = items.flatMap((it) => it.images);
  const { vit, vae } = prepareImages(model, all);
  let latents: Latents | undefined;
  try {
    latents = encodeLatents(model, vae, mode, options.rngs);
    let start = 0;
    const inputs: EncoderInput[] = items.map((item) => {
      const n = item.images.length;
      const rows = (t: tf.Tensor4D): tf.Tensor4D => tf.slice(t, [start, 0, 0, 0], [n, -1, -1, -1]);
      const input: EncoderInput = { text: item.text, images: rows(vit), latents: rows(latents as Latents) };
      if (item.task !== undefined) input.task = item.task;
      start += n;
      return input;
    });
    try {
      const encodeOptions = { fusion: model.fusion, patchEmbedder: model.backbone.patchEmbedder, ...(options.task ? { task: options.task } : {}) };
      return model.encoder.encode(inputs, encodeOptions);
    } finally {
      for (const input of inputs) tf.dispose([input.images, input.latents]);
    }
  } finally {
    tf.dispose([vit, vae]);
    latents?.dispose();
  }
}
