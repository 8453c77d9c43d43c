import { addGradients, emitLayerNorm, MigeInputError, OnnxBuilder, type OnnxParamInfo } from '@mige/core';
import { DitBackbone, emitDitBackbone, emitPatchEmbed } from '@mige/dit';
import { emitQFormer, emitT5Encoder, emitT5Proj } from '@mige/encoder';
import { emitFfmFusion, FfmFusion } from '@mige/fusion';
import { emitHybridLoss, type OnnxLossSchedule } from '../../loss/iddpm.onnx.js';
import type { MseTarget } from '../../loss/index.js';
import type { MigeModel } from '../../model/index.js';

/**
 * The whole trainable part of a MIGE training step as one ONNX graph, differentiated by core's
 * addGradients: ln_vision → Q-Former → FFM → t5_proj for the instruction images, the interleave
 * with T5's token embeddings (one Gather from [shared.weight ; image tokens]), the T5 encoder,
 * condition dropout, q_sample, the DiT, v → ε where the model predicts v, and the IDDPM hybrid
 * loss; outputs the loss and every trainable parameter's gradient. The frozen ViT and VAE run
 * outside it (inference sessions), as their gradients are never needed.
 */

/** The static shape of one micro-batch graph. */
export interface TrainGraphShape {
  /** Items in the micro-batch. */
  batch: number;
  /** Instruction images in the micro-batch (0: no image path in the graph). */
  images: number;
}

export interface TrainGraphOptions {
  mse: MseTarget;
  /** Per-element mse weights (edit focus) as an input `focus` [B, 1, h, w]. */
  focus: boolean;
}

/** The columns of the `schedule` input [B, SCHEDULE_COLUMNS.length], gathered per item from the float64 tables. */
export const SCHEDULE_COLUMNS = [
  'sqrtAlphasCumprod',
  'sqrtOneMinusAlphasCumprod',
  'sqrtRecipAlphasCumprod',
  'sqrtRecipm1AlphasCumprod',
  'posteriorMeanCoef1',
  'posteriorMeanCoef2',
  'posteriorLogVarianceClipped',
  'logBetas',
  'isFirstStep',
  'mseWeight',
  'snrUseX0',
] as const;
export type ScheduleColumn = (typeof SCHEDULE_COLUMNS)[number];

export interface TrainGraph {
  /** The serialized graph. */
  bytes: Uint8Array;
  /** Parameters the graph takes as inputs (by official name), in input order. */
  params: OnnxParamInfo[];
  /** Graph output name of each parameter's gradient (parameters the loss does not reach have none). */
  gradOutputs: Map<string, string>;
  shape: TrainGraphShape;
}

/** Graph output holding the micro-batch's mean loss (a scalar). */
export const LOSS_OUTPUT = 'loss';
/** Graph output holding each item's loss [B]. */
export const ITEM_LOSS_OUTPUT = 'item_loss';

/** The DiT backbone of a model, or a named error (the ONNX engine emits DiT graphs only). */
export function ditOf(model: MigeModel): DitBackbone {
  if (!(model.backbone instanceof DitBackbone)) throw new MigeInputError('the ONNX training engine needs a DiT backbone (@mige/dit); train other backbones with --engine tfjs', 'train');
  return model.backbone;
}

export function buildTrainGraph(model: MigeModel, shape: TrainGraphShape, options: TrainGraphOptions): TrainGraph {
  const dit = ditOf(model);
  if (!dit.learnSigma) throw new MigeInputError('training needs a backbone with learned sigma (learnSigma: true) for the hybrid loss', 'train');
  const c = model.config;
  const enc = model.encoder.module;
  const { batch: B, images: n } = shape;
  const h = model.latentSize(), lc = c.vae.latentChannels;
  const L = c.encoder.maxLength, d = c.encoder.t5.dModel, q = c.encoder.qformer.numQueryTokens;
  const vision = c.encoder.vision;
  const tokens = 1 + (vision.imgSize / vision.patchSize) ** 2;
  const g = new OnnxBuilder({ name: `mige-train-${c.name}-b${B}-i${n}`, params: { mode: 'input' } });

  const x0 = g.input('x0', [B, lc, h, h]);
  const noise = g.input('noise', [B, lc, h, h]);
  const cond = g.input('cond', [B, lc, h, h]);
  const t = g.input('t', [B]);
  const schedule = g.input('schedule', [B, SCHEDULE_COLUMNS.length]);
  const nullY = g.input('null_y', [L, dit.config.captionChannels]);
  const dropY = g.cast(g.input('drop_y', [B]), 'bool');
  const dropSource = g.cast(g.input('drop_source', [B]), 'bool');
  const tokenIndex = g.input('token_index', [B, L], 'int64');
  const mask = g.input('attention_mask', [B, L]);
  const focus = options.focus ? g.input('focus', [B, 1, h, h]) : undefined;
  const column = (name: ScheduleColumn, dims: number[]): string => g.reshape(g.gather(schedule, g.constantI64([SCHEDULE_COLUMNS.indexOf(name)], []), 1), dims);
  const perItem = (name: ScheduleColumn): string => column(name, [B, 1, 1, 1]);

  // Instruction: image tokens (if any), then one Gather interleaves them with the text embeddings.
  const shared = g.param('t5_model.shared.weight', model.encoder.module.t5.shared.weight.shape);
  let table = shared;
  if (n > 0) {
    const embeds = g.input('image_embeds', [n, tokens, vision.embedDim]);
    const latents = g.input('image_latents', [n, lc, h, h]);
    const queries = emitQFormer(g, enc.qformer, emitLayerNorm(g, enc.vision.lnVision, embeds, 'ln_vision'));
    const fusion = model.fusion;
    const fused = fusion instanceof FfmFusion
      ? emitFfmFusion(g, fusion, queries, latents, dit.module.sizes.embedChannels, (x) => emitPatchEmbed(g, dit.module.xEmbedder, x, 'x_embedder'))
      : queries;
    const projected = emitT5Proj(g, enc.t5Proj, fused); // [n, Q, D]
    table = g.concat([shared, g.reshape(projected, [n * q, d])], 0);
  }
  const inputsEmbeds = g.gather(table, tokenIndex, 0); // [B, L, D]
  const y = emitT5Encoder(g, enc.t5, { inputsEmbeds, attentionMask: mask }, L, 't5_model.');

  // Condition dropout (applyCfgDropout): the null caption for dropped instructions, zeros for dropped sources.
  const yUsed = g.where(g.reshape(dropY, [B, 1, 1]), nullY, y);
  const condUsed = g.where(g.reshape(dropSource, [B, 1, 1, 1]), g.scalar(0), cond);
  // q_sample.
  const sqrtAc = perItem('sqrtAlphasCumprod'), sqrtOneMinusAc = perItem('sqrtOneMinusAlphasCumprod');
  const xT = g.add(g.mul(sqrtAc, x0), g.mul(sqrtOneMinusAc, noise));
  const out = emitDitBackbone(g, dit, { x: xT, cond: condUsed, t, y: yUsed, mask });
  const variance = out.variance as string;
  // A v network's output becomes ε = α_t·v + σ_t·x_t.
  const eps = c.prediction === 'v' ? g.add(g.mul(out.eps, sqrtAc), g.mul(xT, sqrtOneMinusAc)) : out.eps;

  const sched: OnnxLossSchedule = {
    sqrtRecipAlphasCumprod: perItem('sqrtRecipAlphasCumprod'),
    sqrtRecipm1AlphasCumprod: perItem('sqrtRecipm1AlphasCumprod'),
    posteriorMeanCoef1: perItem('posteriorMeanCoef1'),
    posteriorMeanCoef2: perItem('posteriorMeanCoef2'),
    posteriorLogVarianceClipped: perItem('posteriorLogVarianceClipped'),
    logBetas: perItem('logBetas'),
    isFirstStep: column('isFirstStep', [B]),
    ...(options.mse === 'v' ? { mseWeight: perItem('mseWeight') } : {}),
    ...(options.mse === 'snr' ? { snrUseX0: perItem('snrUseX0') } : {}),
  };
  const { loss: itemLoss } = emitHybridLoss(g, { x0, noise, xT, eps, variance, ...(focus ? { weight: focus } : {}) }, sched);
  const loss = g.reduceMean(itemLoss, [0], false);

  // Frozen parameters the graph uses (config.frozen) are inputs too, but are not differentiated.
  const params = g.paramInfos();
  const grads = addGradients(g, { loss, wrt: params.filter((p) => !model.isFrozen(p.name)).map((p) => p.value) });
  g.output(loss, LOSS_OUTPUT, []);
  g.output(itemLoss, ITEM_LOSS_OUTPUT, [B]);
  const gradOutputs = new Map<string, string>();
  for (const p of params) {
    const grad = grads.get(p.value);
    if (!grad) continue;
    const name = `grad.${p.name}`;
    g.output(grad, name, [...p.shape]);
    gradOutputs.set(p.name, name);
  }
  return { bytes: g.serialize(), params, gradOutputs, shape };
}
