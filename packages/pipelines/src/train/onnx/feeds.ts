import { chwToTensor, Rng, tf, type ChwImage, type ImageBatch } from '@mige/core';
import type { TaskDraw } from '@mige/data';
import { iddpmTables } from '../../diffusion/index.js';
import { SNR_X0_BELOW, type MseTarget } from '../../loss/index.js';
import type { MigeModel } from '../../model/index.js';
import { planBatch } from '../../onnx/onnx-encode.js';
import { editFocusWeights } from '../edit-focus.js';
import type { LatentCache } from '../latent-cache.js';
import { disposeTrainBatch, prepareTrainBatch } from '../train-batch.js';
import type { TrainConfig } from '../train-config.js';
import type { TrainDataset, TrainExample, TrainTask } from '../train-data.js';
import { drawStep } from '../train-step.js';
import type { FrozenSessions } from './frozen.js';
import { SCHEDULE_COLUMNS, type ScheduleColumn } from './train-graph.js';

/** A graph input's data: float32 or int64 values and their dims. */
export interface Feed {
  data: Float32Array | BigInt64Array;
  dims: number[];
}

/**
 * One micro-batch ready for the training graph: every non-parameter input but `null_y` (the same
 * in every step: OnnxGradients feeds it), and the image count that picks the graph.
 */
export interface MicroBatchFeeds {
  feeds: Record<string, Feed>;
  /** Instruction images the sequences use (the graph is built for `imageBucket(images)`). */
  images: number;
  /** The time preparing it took, in ms (on whichever thread prepared it). */
  ms: number;
}

/**
 * The image count a micro-batch's graph is built for: 0, or the next power of two from 4 up, so
 * a run builds few graphs (5 at batch 8 with up to 4 images an item) while padding costs at most
 * as much again on the image path, a small part of the step.
 */
export function imageBucket(images: number): number {
  if (images === 0) return 0;
  let bucket = 4;
  while (bucket < images) bucket *= 2;
  return bucket;
}

export interface FeedContext {
  /** The model's config, tokenizer and sizes (its weights are not read: a skeleton will do). */
  model: MigeModel;
  dataset: TrainDataset;
  cfg: TrainConfig;
  latents: LatentCache;
  frozen: FrozenSessions;
}

function floatsOf(t: tf.Tensor): Float32Array {
  return Float32Array.from(t.dataSync());
}

/**
 * The inputs of micro-batch `micro` of optimizer step `step`, drawn exactly as the TF.js engine
 * draws them (microBatchGradients): the same examples, VAE latents (sampled with the same
 * generators), timesteps, noise and condition dropout, and the same instruction plans. The VAE
 * and the ViT run on ONNX Runtime. Padding images (up to the bucket) are zeros that no token
 * reads, so they change no value and no gradient.
 */
export async function prepareMicroBatch(ctx: FeedContext, step: number, micro: number, draws: readonly TaskDraw[]): Promise<MicroBatchFeeds> {
  const started = performance.now();
  const { model, cfg } = ctx;
  const examples: TrainExample[] = await Promise.all(draws.map((d) => ctx.dataset.get(d.task as TrainTask, d.index)));
  const rng = new Rng(cfg.seed).fork(`step/${step}/${micro}`);
  const vaeImages: ChwImage[] = examples.flatMap((ex) => [ex.target, ...(ex.source ? [ex.source] : []), ...ex.entities.map((e) => e.vae)]);
  const all = chwToTensor(vaeImages) as ImageBatch;
  try {
    await ctx.latents.fill(all, (images) => ctx.frozen.encode(images));
  } finally {
    all.dispose();
  }
  const batch = prepareTrainBatch(model, examples, rng.fork('latents'), cfg.latents, ctx.latents);
  const s = model.latentSize();
  const B = examples.length;
  const stepDraws = drawStep(rng, B, [model.vae.latentChannels, s, s], 1000, cfg.dropout, cfg.timestepPower);
  try {
    const c = model.config;
    const planned = planBatch(model, batch.inputs);
    const vocab = c.encoder.t5.vocabSize, q = c.encoder.qformer.numQueryTokens, L = c.encoder.maxLength;
    // Token rows: T5 ids below `vocab`, image token j of image k at vocab + k·Q + j.
    const tokenIndex = new BigInt64Array(B * L);
    const attentionMask = new Float32Array(B * L);
    let image = 0;
    const usedImages: tf.Tensor[] = [], usedLatents: tf.Tensor[] = [];
    planned.forEach((p, i) => {
      let pos = i * L;
      for (const span of p.plan.spans) {
        if (span.kind === 'text') for (const id of span.ids) tokenIndex[pos++] = BigInt(id);
        else if (span.kind === 'pad') pos += span.count; // id 0
        else for (let r = 0; r < span.rows; r++) tokenIndex[pos++] = BigInt(vocab + (image + span.slot) * q + r);
      }
      attentionMask.set(p.plan.mask, i * L);
      if (p.used > 0) {
        usedImages.push(tf.slice(p.input.images, 0, p.used));
        usedLatents.push(tf.slice(p.input.latents, 0, p.used));
      }
      image += p.used;
    });
    const feeds: Record<string, Feed> = {
      x0: { data: floatsOf(batch.x0), dims: batch.x0.shape },
      cond: { data: floatsOf(batch.cond), dims: batch.cond.shape },
      noise: { data: floatsOf(stepDraws.noise), dims: stepDraws.noise.shape },
      t: { data: Float32Array.from(stepDraws.t), dims: [B] },
      schedule: { data: scheduleRows(stepDraws.t, mseOf(cfg, model), cfg.mseMaxWeight ?? Infinity), dims: [B, SCHEDULE_COLUMNS.length] },
      drop_y: { data: Float32Array.from(stepDraws.dropY, Number), dims: [B] },
      drop_source: { data: Float32Array.from(stepDraws.dropSource, Number), dims: [B] },
      token_index: { data: tokenIndex, dims: [B, L] },
      attention_mask: { data: attentionMask, dims: [B, L] },
    };
    if (cfg.editFocus > 0) {
      const focus = editFocusWeights(examples, s, cfg.editFocus, {
        on: cfg.editFocusOn,
        skip: stepDraws.dropY.map((d, i) => d || (stepDraws.dropSource[i] ?? false) || (stepDraws.t[i] as number) >= cfg.editFocusBelow),
      });
      feeds.focus = { data: floatsOf(focus), dims: focus.shape };
      focus.dispose();
    }
    if (image > 0) {
      const bucket = imageBucket(image);
      const v = c.encoder.vision.imgSize;
      const pixels = tf.tidy(() => floatsOf(tf.concat(usedImages, 0)));
      const embeds = await ctx.frozen.vitEmbeds(pixels, image, v);
      const tokens = embeds.length / image;
      const paddedEmbeds = new Float32Array(bucket * tokens);
      paddedEmbeds.set(embeds);
      const lat = tf.tidy(() => floatsOf(tf.concat(usedLatents, 0)));
      const paddedLatents = new Float32Array((bucket * lat.length) / image);
      paddedLatents.set(lat);
      feeds.image_embeds = { data: paddedEmbeds, dims: [bucket, 1 + (v / c.encoder.vision.patchSize) ** 2, c.encoder.vision.embedDim] };
      feeds.image_latents = { data: paddedLatents, dims: [bucket, model.vae.latentChannels, s, s] };
    }
    tf.dispose([...usedImages, ...usedLatents]);
    return { feeds, images: image, ms: performance.now() - started };
  } finally {
    disposeTrainBatch(batch);
    stepDraws.noise.dispose();
  }
}

/** The mse target: the config's, or the model's own ('v' for a v-prediction model). */
export function mseOf(cfg: TrainConfig, model: MigeModel): MseTarget {
  return cfg.mse ?? (model.config.prediction === 'v' ? 'v' : 'eps');
}

/** Per item, the schedule values the loss gathers at t (float64 tables, rounded to float32 as extractIntoTensor). */
export function scheduleRows(t: Int32Array, mse: MseTarget, maxWeight: number): Float32Array {
  const tables = iddpmTables();
  const cols = SCHEDULE_COLUMNS.length;
  const out = new Float32Array(t.length * cols);
  t.forEach((step, i) => {
    const value: Record<ScheduleColumn, number> = {
      sqrtAlphasCumprod: tables.sqrtAlphasCumprod[step] as number,
      sqrtOneMinusAlphasCumprod: tables.sqrtOneMinusAlphasCumprod[step] as number,
      sqrtRecipAlphasCumprod: tables.sqrtRecipAlphasCumprod[step] as number,
      sqrtRecipm1AlphasCumprod: tables.sqrtRecipm1AlphasCumprod[step] as number,
      posteriorMeanCoef1: tables.posteriorMeanCoef1[step] as number,
      posteriorMeanCoef2: tables.posteriorMeanCoef2[step] as number,
      posteriorLogVarianceClipped: tables.posteriorLogVarianceClipped[step] as number,
      logBetas: tables.logBetas[step] as number,
      isFirstStep: step === 0 ? 1 : 0,
      mseWeight: mse === 'v' ? Math.min(maxWeight, 1 / (tables.alphasCumprod[step] as number)) : 1,
      snrUseX0: step < SNR_X0_BELOW ? 1 : 0,
    };
    SCHEDULE_COLUMNS.forEach((c, j) => (out[i * cols + j] = value[c]));
  });
  return out;
}
