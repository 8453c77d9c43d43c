import { Rng, tf } from '@mige/core';
import type { TaskDraw } from '@mige/data';
import type { MigeModel } from '../model/index.js';
import { editFocusWeights } from './edit-focus.js';
import type { LatentEncoder } from './latent-cache.js';
import { disposeTrainBatch, prepareTrainBatch } from './train-batch.js';
import type { TrainConfig } from './train-config.js';
import type { TrainDataset, TrainTask } from './train-data.js';
import { drawStep, itemLosses, type StepDraws } from './train-step.js';

/** What one thread needs to compute gradients (the main thread and each training worker hold one). */
export interface GradientContext {
  model: MigeModel;
  /** model.trainableParameters(), in that order. */
  params: readonly [string, tf.Variable][];
  dataset: TrainDataset;
  cfg: TrainConfig;
  latents: LatentEncoder;
}

/** Items [start, end) of a micro-batch of `batch` that worker `w` of `workers` computes (worker 0: the main thread). */
export function shardRange(batch: number, workers: number, w: number): [number, number] {
  const base = Math.floor(batch / workers), extra = batch % workers;
  const start = w * base + Math.min(w, extra);
  return [start, start + base + (w < extra ? 1 : 0)];
}

/**
 * The loss and gradients of items [start, end) of micro-batch `micro` of optimizer step `step`,
 * whose draws are `draws` (all of the micro-batch's). The loss is the items' share of the
 * micro-batch mean (their sum / batch size), so the shards' losses and gradients add up to the
 * whole micro-batch's. Every random draw is the whole micro-batch's, taken from Rng(seed) forked
 * by step and micro-batch and then cut to the shard: any split gives the same draws per item.
 * Gradients are keyed by variable name (tf.variableGrads); the caller disposes them.
 */
export async function microBatchGradients(ctx: GradientContext, step: number, micro: number, draws: readonly TaskDraw[], [start, end]: [number, number]): Promise<{ loss: number; grads: Record<string, tf.Tensor> }> {
  const { model, cfg } = ctx;
  const whole = start === 0 && end === draws.length;
  const examples = await Promise.all(draws.slice(start, end).map((d) => ctx.dataset.get(d.task as TrainTask, d.index)));
  const rng = new Rng(cfg.seed).fork(`step/${step}/${micro}`);
  const batch = prepareTrainBatch(model, examples, rng.fork('latents'), cfg.latents, ctx.latents, start);
  const s = model.latentSize();
  const all = drawStep(rng, draws.length, [model.vae.latentChannels, s, s], 1000, cfg.dropout, cfg.timestepPower);
  const stepDraws: StepDraws = whole ? all : {
    t: all.t.slice(start, end),
    noise: tf.tidy(() => tf.slice(all.noise, start, end - start)) as StepDraws['noise'],
    dropY: all.dropY.slice(start, end),
    dropSource: all.dropSource.slice(start, end),
  };
  if (!whole) all.noise.dispose();
  // Items that condition dropout left without their instruction or source stay uniform: their
  // weights could only say where the (unknown) edit is. So do items at or above editFocusBelow.
  const focus = cfg.editFocus > 0
    ? editFocusWeights(examples, s, cfg.editFocus, {
      on: cfg.editFocusOn,
      skip: stepDraws.dropY.map((d, i) => d || (stepDraws.dropSource[i] ?? false) || (stepDraws.t[i] as number) >= cfg.editFocusBelow),
    })
    : null;
  try {
    const { value, grads } = tf.variableGrads(() => {
      const losses = itemLosses(model, batch, stepDraws, {
        mse: cfg.mse ?? (model.config.prediction === 'v' ? 'v' : 'eps'),
        ...(cfg.mseMaxWeight !== null ? { maxWeight: cfg.mseMaxWeight } : {}),
        ...(focus ? { weight: focus } : {}),
      });
      // The whole micro-batch keeps tf.mean, so one worker computes exactly what it always did.
      return (whole ? tf.mean(losses) : tf.div(tf.sum(losses), draws.length)) as tf.Scalar;
    }, ctx.params.map(([, p]) => p));
    const loss = value.dataSync()[0] as number;
    value.dispose();
    return { loss, grads };
  } finally {
    disposeTrainBatch(batch);
    stepDraws.noise.dispose();
    focus?.dispose();
  }
}

/**
 * One thread's share of optimizer step `step`: items shardRange(·, workers, index) of each
 * micro-batch in `micros`, gradients averaged over the micro-batches and the loss summed over
 * them (the caller divides by their number). Index 0 of 1 is the whole step.
 */
export async function shareGradients(ctx: GradientContext, step: number, micros: readonly (readonly TaskDraw[])[], workers: number, index: number): Promise<{ loss: number; grads: Record<string, tf.Tensor> }> {
  let loss = 0;
  let acc: Record<string, tf.Tensor> = {};
  for (const [micro, draws] of micros.entries()) {
    const r = await microBatchGradients(ctx, step, micro, draws, shardRange(draws.length, workers, index));
    loss += r.loss;
    acc = accumulate(acc, r.grads, micros.length);
  }
  return { loss, grads: acc };
}

/**
 * Running mean of micro-batch gradients (each divided by the number of micro-batches). A variable
 * the loss did not reach (the image path's, when no item's instruction holds an image) has no gradient in that
 * micro-batch; one that has one in another keeps it.
 */
export function accumulate(acc: Readonly<Record<string, tf.Tensor>>, grads: Record<string, tf.Tensor>, n: number): Record<string, tf.Tensor> {
  const out: Record<string, tf.Tensor> = { ...acc };
  for (const [k, g] of Object.entries(grads)) {
    const scaled = n === 1 ? g : tf.tidy(() => tf.div(g, n));
    if (n !== 1) g.dispose();
    const prev = acc[k];
    out[k] = prev ? tf.tidy(() => tf.add(prev, scaled)) : scaled;
    if (prev) {
      prev.dispose();
      scaled.dispose();
    }
  }
  return out;
}
