import { chwToTensor, Rng, tf, type ChwImage, type EncoderInput, type Latents } from '@mige/core';
import { encodeLatents, type LatentMode, type MigeModel } from '../model/index.js';
import type { LatentEncoder } from './latent-cache.js';
import { PROMPT_TASK, type TrainExample } from './train-data.js';

/** One micro-batch, ready for the networks that train. Nothing here needs gradients (the VAE is frozen). */
export interface TrainBatch {
  /** Encoder inputs: images for the ViT, unscaled latents for fusion, the prompt task. */
  inputs: EncoderInput[];
  /** Target latents x0 [B, 4, h, w], scaled. */
  x0: Latents;
  /** Conditional inputs [B, 4, h, w], scaled source latents or zeros. */
  cond: Latents;
}

/**
 * VAE-encodes a micro-batch, every image in one batch (the VAE is frozen: no gradients). Randomness
 * comes from `rng` forked per image (`<i>/target`, `<i>/source`, `<i>/entity/<j>`), so a resumed
 * run draws the same latents. An entity that is the source image reuses the source's latent, as
 * the reference's edit data does. `encoder` stands in for the VAE's (a LatentCache: images seen
 * before skip the VAE, same latents). `firstItem`: the index of examples[0] in its micro-batch,
 * when these are one worker's share of it (the keys use the micro-batch's indices).
 */
export function prepareTrainBatch(model: MigeModel, examples: readonly TrainExample[], rng: Rng, mode: LatentMode, encoder: LatentEncoder = model.vae, firstItem = 0): TrainBatch {
  const images: ChwImage[] = [];
  const rngs: Rng[] = [];
  const add = (img: ChwImage, key: string): number => {
    images.push(img);
    rngs.push(rng.fork(key));
    return images.length - 1;
  };
  // Row indices into the encoded batch; -1: no source (zeros).
  const rows = examples.map((ex, k) => {
    const i = firstItem + k;
    const target = add(ex.target, `${i}/target`);
    const source = ex.source ? add(ex.source, `${i}/source`) : -1;
    const entities = ex.entities.map((e, j) => (j === ex.sourceEntity && source >= 0 ? source : add(e.vae, `${i}/entity/${j}`)));
    return { target, source, entities };
  });
  const s = model.latentSize();
  const c = model.vae.latentChannels;
  const v = model.config.encoder.vision.imgSize;
  const scale = model.vae.scalingFactor;
  const latents = tf.tidy(() => encodeLatents(model, chwToTensor(images), mode, rngs, encoder));
  try {
    const x0 = tf.tidy(() => tf.mul(tf.gather(latents, rows.map((r) => r.target)), scale) as Latents);
    const cond = tf.tidy(() => {
      const zeros = tf.zeros([1, c, s, s]);
      return tf.mul(tf.concat(rows.map((r) => (r.source >= 0 ? tf.gather(latents, [r.source]) : zeros)), 0), scale) as Latents;
    });
    const inputs: EncoderInput[] = examples.map((ex, i) => {
      const picked = (rows[i] as { entities: number[] }).entities;
      return {
        text: ex.instruction,
        task: PROMPT_TASK[ex.task],
        images: ex.entities.length > 0 ? chwToTensor(ex.entities.map((e) => e.vit)) : (tf.zeros([0, 3, v, v]) as tf.Tensor4D),
        latents: picked.length > 0 ? (tf.gather(latents, picked) as Latents) : (tf.zeros([0, c, s, s]) as Latents),
      };
    });
    return { inputs, x0, cond };
  } finally {
    latents.dispose();
  }
}

export function disposeTrainBatch(b: TrainBatch): void {
  for (const i of b.inputs) tf.dispose([i.images, i.latents]);
  tf.dispose([b.x0, b.cond]);
}
