import { blipEvalTransform, chwToTensor, MigeInputError, Rng, tf, vaeTransform, type EncoderInput, type InstructionTask, type Latents, type RgbImage } from '@mige/core';
import { encodeLatents, type LatentMode, type MigeModel } from '../model/index.js';
import type { FlowEngine } from './engine.js';
import { resizeWithPadding } from './image-fit.js';

/** One image of an instruction, in placeholder order. */
export interface InstructionImage {
  image: RgbImage;
  /** How it is fitted to the VAE's square: the reference crops for edits, pads subject images. */
  fit: 'crop' | 'pad';
  /** True for the source image: it shares the conditional input's latent. */
  isSource?: boolean;
}

/** One image to make: its instruction, images, conditional input and seed. */
export interface FlowItem {
  text: string;
  task: InstructionTask;
  images: InstructionImage[];
  /** The conditional input's image (edits), or null for a blank canvas. */
  source: RgbImage | null;
  seed: number;
}

export interface PreparedItems {
  /** Encoder inputs, one per item (images for the ViT, unscaled latents for fusion). */
  inputs: EncoderInput[];
  /** Conditional inputs [B, 4, h, w], scaled by the VAE's scaling factor (zeros without a source). */
  cond: Latents;
}

/**
 * Per item: the ViT inputs and the VAE latents of its images, and its conditional input. All
 * randomness comes from the item's own seed (`noise`, `source` and `latents/<j>` streams), so an
 * item comes out the same whatever else is in the batch. Each image is VAE-encoded on its own
 * for the same reason.
 */
export function prepareItems(model: MigeModel, items: readonly FlowItem[], mode: LatentMode): PreparedItems {
  const size = model.config.imageSize;
  const vitSize = model.config.encoder.vision.imgSize;
  const latentSize = model.latentSize();
  const channels = model.vae.latentChannels;
  const encodeOne = (img: RgbImage, fit: 'crop' | 'pad', rng: Rng): Latents =>
    tf.tidy(() => {
      const pixels = vaeTransform(fit === 'crop' ? img : resizeWithPadding(img, size), size);
      return encodeLatents(model, chwToTensor([pixels]), mode, [rng]);
    });
  const inputs: EncoderInput[] = [];
  const conds: Latents[] = [];
  for (const item of items) {
    const root = new Rng(item.seed);
    const source = item.source ? encodeOne(item.source, 'crop', root.fork('source')) : null;
    const latents = item.images.map((ref, j) => {
      if (ref.isSource) {
        if (!source) throw new MigeInputError('an instruction image is marked as the source, but the item has no source', 'prepareItems');
        return source.clone();
      }
      return encodeOne(ref.image, ref.fit, root.fork(`latents/${j}`));
    });
    const vit = item.images.length > 0 ? chwToTensor(item.images.map((r) => blipEvalTransform(r.image, vitSize))) : tf.zeros([0, 3, vitSize, vitSize]);
    const stacked = latents.length > 0 ? (tf.concat(latents, 0) as Latents) : (tf.zeros([0, channels, latentSize, latentSize]) as Latents);
    tf.dispose(latents);
    inputs.push({ text: item.text, task: item.task, images: vit as tf.Tensor4D, latents: stacked });
    conds.push(source ? tf.tidy(() => tf.mul(source, model.vae.scalingFactor) as Latents) : (tf.zeros([1, channels, latentSize, latentSize]) as Latents));
    source?.dispose();
  }
  const cond = tf.concat(conds, 0) as Latents;
  tf.dispose(conds);
  return { inputs, cond };
}

/**
 * prepareItems with the VAE encoder run by `engine` (one image per call, as prepareItems does,
 * so an item's latents do not depend on the batch). Same seeds, same streams, same results up to
 * the engine's arithmetic.
 */
export async function prepareItemsWith(engine: FlowEngine, model: MigeModel, items: readonly FlowItem[], mode: LatentMode): Promise<PreparedItems> {
  if (mode !== 'sample' && mode !== 'mean') throw new MigeInputError(`mode must be 'sample' or 'mean', got ${JSON.stringify(mode)}`, 'prepareItems');
  const size = model.config.imageSize;
  const vitSize = model.config.encoder.vision.imgSize;
  const latentSize = model.latentSize();
  const channels = model.vae.latentChannels;
  const encodeOne = async (img: RgbImage, fit: 'crop' | 'pad', rng: Rng): Promise<Latents> => {
    const pixels = tf.tidy(() => chwToTensor([vaeTransform(fit === 'crop' ? img : resizeWithPadding(img, size), size)]));
    let dist;
    try {
      dist = await engine.vaeEncode(pixels);
    } finally {
      pixels.dispose();
    }
    try {
      return mode === 'mean' ? dist.mode() : dist.sample([rng]);
    } finally {
      dist.dispose();
    }
  };
  const inputs: EncoderInput[] = [];
  const conds: Latents[] = [];
  try {
    for (const item of items) {
      const root = new Rng(item.seed);
      const source = item.source ? await encodeOne(item.source, 'crop', root.fork('source')) : null;
      const latents: Latents[] = [];
      try {
        for (const [j, ref] of item.images.entries()) {
          if (ref.isSource) {
            if (!source) throw new MigeInputError('an instruction image is marked as the source, but the item has no source', 'prepareItems');
            latents.push(source.clone());
          } else {
            latents.push(await encodeOne(ref.image, ref.fit, root.fork(`latents/${j}`)));
          }
        }
        const vit = item.images.length > 0 ? chwToTensor(item.images.map((r) => blipEvalTransform(r.image, vitSize))) : tf.zeros([0, 3, vitSize, vitSize]);
        const stacked = latents.length > 0 ? (tf.concat(latents, 0) as Latents) : (tf.zeros([0, channels, latentSize, latentSize]) as Latents);
        inputs.push({ text: item.text, task: item.task, images: vit as tf.Tensor4D, latents: stacked });
        conds.push(source ? tf.tidy(() => tf.mul(source, model.vae.scalingFactor) as Latents) : (tf.zeros([1, channels, latentSize, latentSize]) as Latents));
      } finally {
        tf.dispose(latents);
        source?.dispose();
      }
    }
    return { inputs, cond: tf.concat(conds, 0) as Latents };
  } catch (error) {
    for (const input of inputs) tf.dispose([input.images, input.latents]);
    throw error;
  } finally {
    tf.dispose(conds);
  }
}

/** The item's initial noise x_T [1, 4, h, w] from its `noise` stream. */
export function initialNoise(model: MigeModel, seed: number): Latents {
  const s = model.latentSize();
  return new Rng(seed).fork('noise').randn([1, model.vae.latentChannels, s, s]) as Latents;
}

export function disposeInputs(p: PreparedItems): void {
  for (const input of p.inputs) tf.dispose([input.images, input.latents]);
  p.cond.dispose();
}
