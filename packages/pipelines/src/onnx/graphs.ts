import { emitEmbedding, MigeInputError, OnnxBuilder, type OnnxDim, type OnnxWeightType } from '@mige/core';
import { DitBackbone, emitDitBackbone, emitPatchEmbed } from '@mige/dit';
import { emitQFormer, emitT5Encoder, emitT5Proj, emitVisionEncoder, type T5EncoderPart } from '@mige/encoder';
import { emitFfmFusion, FfmFusion } from '@mige/fusion';
import { emitVaeDecode, emitVaeEncodeMoments } from '@mige/vae';
import type { MigeModel } from '../model/mige-model.js';
import { modelWeights, type ModelWeights } from '../model/weights.js';
import { onnxValueName, type OnnxComponent } from './components.js';
import type { OnnxValueSpec } from './manifest.js';

export interface ComponentGraphOptions {
  weightType: OnnxWeightType;
  /** The batch axis: a fixed size or a symbolic name ('batch'). */
  batch: OnnxDim;
  /** The longest T5 input (the bucket table's size). */
  t5MaxLength: number;
  /** Where the weights come from (default: the model's own tensors, which must then be loaded). */
  weights?: ModelWeights;
  /** t5-encoder only: these blocks (see emitT5Encoder), default all of them. */
  t5Part?: T5EncoderPart;
  /** ONNX Runtime's fused operators (OnnxGraphOptions.fusedOps); default true: the graphs run on ONNX Runtime. */
  fusedOps?: boolean;
}

export interface ComponentGraph {
  graph: OnnxBuilder;
  inputs: OnnxValueSpec[];
  outputs: OnnxValueSpec[];
}

/** Whether `model` has this component (ffm only with FFM fusion). */
export function hasComponent(model: MigeModel, component: OnnxComponent): boolean {
  return component !== 'ffm' || model.fusion instanceof FfmFusion;
}

function ditOf(model: MigeModel): DitBackbone {
  if (!(model.backbone instanceof DitBackbone)) throw new MigeInputError('only DiT backbones (@mige/dit) export to ONNX', 'exportModel');
  return model.backbone;
}

/**
 * Builds one component's graph from the model's modules (a skeleton will do: only their shapes
 * and buffers are read) and `o.weights`. Inputs and outputs are declared from camelCase keys
 * (ONNX names snake_case); shapes are fixed except the batch (when symbolic) and the caption /
 * T5 sequence length.
 */
export function buildComponentGraph(model: MigeModel, component: OnnxComponent, o: ComponentGraphOptions): ComponentGraph {
  // Parameters by their official names (the VAE's under diffusers' own), read at serialization.
  const weights = o.weights ?? modelWeights(model);
  const params = { mode: 'initializer' as const, source: component.startsWith('vae-') ? weights.vae : weights.mige };
  const g = new OnnxBuilder({ name: `mige-${component}`, weightType: o.weightType, params, fusedOps: o.fusedOps ?? true, metadata: { component, model: model.config.name } });
  const inputs: OnnxValueSpec[] = [];
  const outputs: OnnxValueSpec[] = [];
  const input = (key: string, shape: OnnxDim[]): string => {
    inputs.push({ name: onnxValueName(key), type: 'float32', shape });
    return g.input(onnxValueName(key), shape);
  };
  const output = (value: string, key: string, shape: OnnxDim[]): void => {
    outputs.push({ name: onnxValueName(key), type: 'float32', shape });
    g.output(value, onnxValueName(key), shape);
  };
  const B = o.batch;
  const c = model.config;
  const s = c.imageSize, h = model.latentSize(), lc = c.vae.latentChannels;
  const enc = model.encoder.module;
  const q = c.encoder.qformer, v = c.encoder.vision;
  const visionTokens = 1 + (v.imgSize / v.patchSize) ** 2;
  switch (component) {
    case 'vae-encoder':
      output(emitVaeEncodeMoments(g, model.vae, input('images', [B, c.vae.inChannels, s, s])), 'moments', [B, 2 * lc, h, h]);
      break;
    case 'vae-decoder':
      output(emitVaeDecode(g, model.vae, input('latents', [B, lc, h, h])), 'images', [B, c.vae.outChannels, s, s]);
      break;
    case 'dit': {
      const dit = ditOf(model);
      const k = dit.config.inChannels, n = dit.config.inputSize;
      const x = input('x', [B, k, n, n]);
      const cond = input('cond', [B, k, n, n]);
      const t = input('t', [B]);
      const y = input('y', [B, 'caption_length', dit.config.captionChannels]);
      const mask = input('mask', [B, 'caption_length']);
      const out = emitDitBackbone(g, dit, { x, cond, t, y, mask });
      output(out.eps, 'eps', [B, k, n, n]);
      if (out.variance) output(out.variance, 'variance', [B, k, n, n]);
      break;
    }
    case 'vit':
      output(emitVisionEncoder(g, enc.vision, input('images', [B, 3, v.imgSize, v.imgSize])), 'imageEmbeds', [B, visionTokens, v.embedDim]);
      break;
    case 'qformer':
      output(emitQFormer(g, enc.qformer, input('imageEmbeds', [B, visionTokens, q.encoderWidth])), 'queryOutput', [B, q.numQueryTokens, q.hiddenSize]);
      break;
    case 'ffm': {
      const fusion = model.fusion;
      if (!(fusion instanceof FfmFusion)) throw new MigeInputError(`the model's fusion is '${fusion.type}', which has no ffm graph`, 'exportModel');
      const dit = ditOf(model);
      const tokens = input('queryTokens', [B, q.numQueryTokens, q.hiddenSize]);
      const latents = input('latents', [B, lc, h, h]);
      const fused = emitFfmFusion(g, fusion, tokens, latents, dit.module.sizes.embedChannels, (x) => emitPatchEmbed(g, dit.module.xEmbedder, x, 'x_embedder'));
      output(fused, 'fused', [B, q.numQueryTokens, q.hiddenSize]);
      break;
    }
    case 't5-proj':
      output(emitT5Proj(g, enc.t5Proj, input('queryOutput', [B, q.numQueryTokens, q.hiddenSize])), 'projected', [B, q.numQueryTokens, c.encoder.t5.dModel]);
      break;
    case 't5-embed': {
      const ids = g.cast(input('inputIds', [B, 'sequence_length']), 'int64');
      output(emitEmbedding(g, enc.t5.shared, ids, 't5_model.shared'), 'embeddings', [B, 'sequence_length', c.encoder.t5.dModel]);
      break;
    }
    case 't5-encoder': {
      const d = c.encoder.t5.dModel;
      const inputsEmbeds = input('inputsEmbeds', [B, 'sequence_length', d]);
      const attentionMask = input('attentionMask', [B, 'sequence_length']);
      output(emitT5Encoder(g, enc.t5, { inputsEmbeds, attentionMask }, o.t5MaxLength, 't5_model.', o.t5Part), 'lastHiddenState', [B, 'sequence_length', d]);
      break;
    }
  }
  // Weights stored as the graph uses them: nothing for the runtime to fold at load time.
  g.foldParamTransposes();
  return { graph: g, inputs, outputs };
}
