import { chwToTensor, Rng, tf, type ChwImage, type EncoderInput, type Latents } from '@mige/core';
import { encodeLatents, type LatentMode, type MigeModel } from '../model/index.js';
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
 * VAE-encodes a micro-batch. Randomness comes from `rng` forked per example (`<i>/target`,
 * `<i>/source`, `<i>/entity/<j>`), so a resumed run draws the same latents. An entity that is the
 * source image reuses the source's latent, as the reference's edit data does.
 */
export function prepareTrainBatch(model: MigeModel, examples: readonly TrainExample[], rng: Rng, mode: LatentMode): TrainBatch {
  const kept: TrainBatch[] = [];
  tf.tidy(() => {
    const scale = model.vae.scalingFactor;
    const latentOf = (img: ChwImage, r: Rng): Latents => encodeLatents(model, chwToTensor([img]), mode, [r]);
    const s = model.latentSize();
    const c = model.vae.latentChannels;
    const targets: Latents[] = [];
    const conds: Latents[] = [];
    const inputs: EncoderInput[] = examples.map((ex, i) => {
      targets.push(latentOf(ex.target, rng.fork(`${i}/target`)));
      const source = ex.source ? latentOf(ex.source, rng.fork(`${i}/source`)) : null;
      conds.push(source ?? (tf.zeros([1, c, s, s]) as Latents));
      const latents = ex.entities.map((e, j) => (j === ex.sourceEntity && source ? source : latentOf(e.vae, rng.fork(`${i}/entity/${j}`))));
      const v = model.config.encoder.vision.imgSize;
      return {
        text: ex.instruction,
        task: PROMPT_TASK[ex.task],
        images: ex.entities.length > 0 ? chwToTensor(ex.entities.map((e) => e.vit)) : (tf.zeros([0, 3, v, v]) as tf.Tensor4D),
        latents: latents.length > 0 ? (tf.concat(latents, 0) as Latents) : (tf.zeros([0, c, s, s]) as Latents),
      };
    });
    const x0 = tf.mul(tf.concat(targets, 0), scale) as Latents;
    const cond = tf.mul(tf.concat(conds, 0), scale) as Latents;
    const batch = { inputs, x0, cond };
    for (const t of [x0, cond, ...inputs.flatMap((i) => [i.images, i.latents])]) tf.keep(t);
    kept.push(batch);
  });
  return kept[0] as TrainBatch;
}

export function disposeTrainBatch(b: TrainBatch): void {
  for (const i of b.inputs) tf.dispose([i.images, i.latents]);
  tf.dispose([b.x0, b.cond]);
}
