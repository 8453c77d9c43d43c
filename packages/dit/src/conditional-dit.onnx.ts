import type { OnnxBuilder } from '@mige/core';
import type { DitBackbone } from './backbone.js';
import type { ConditionalDiT } from './conditional-dit.js';
import { AdaLnZeroDiT } from './dit-adaln-zero.js';
import { emitAdaLnFinalLayer, emitAdaLnZeroBlock } from './dit-adaln-zero.onnx.js';
import { emitCaptionEmbedder, emitPatchEmbed, emitTimestepEmbedder } from './embedders.onnx.js';
import { emitCrossAttentionMask } from './layers.onnx.js';
import { PixArtDiT } from './pixart.js';
import { emitPixArtBlock, emitPixArtBlockCondition, emitT2IFinalLayer } from './pixart.onnx.js';

/** Value names of the DiT's inputs: x, cond [B, 4, h, w], t [B] float, y [B, L, C], mask [B, L] float (1 valid, 0 padding). */
export interface DitOnnxInputs {
  x: string;
  cond: string;
  t: string;
  y: string;
  mask: string;
}

/**
 * ConditionalDiT.forward: patch embedding of [x ; cond] + pos_embed, timestep and caption
 * embedders, the blocks (PixArt or adaLN-Zero), the final layer and unpatchify →
 * [B, outChannels, h, w]. The position table is fixed, so h = w = config.inputSize.
 */
export function emitConditionalDiT(g: OnnxBuilder, m: ConditionalDiT, inputs: DitOnnxInputs): string {
  const { hiddenSize: d, patchSize: p } = m.config;
  const { gridSize: gs, numPatches, outChannels: c } = m.sizes;
  const tokens = emitPatchEmbed(g, m.xEmbedder, g.concat([inputs.x, inputs.cond], 1), 'x_embedder');
  let h = g.add(tokens, g.constantF32('pos_embed', m.posEmbed.dataSync() as Float32Array, [1, numPatches, d]));
  const tEmb = emitTimestepEmbedder(g, m.tEmbedder, inputs.t, 't_embedder');
  const yEmb = emitCaptionEmbedder(g, m.yEmbedder, inputs.y, 'y_embedder');
  const keyMask = emitCrossAttentionMask(g, inputs.mask);
  let out: string;
  if (m instanceof PixArtDiT) {
    const c0 = emitPixArtBlockCondition(g, m, tEmb);
    m.blocks.items.forEach((b, i) => (h = emitPixArtBlock(g, b, h, yEmb, c0, keyMask, `blocks.${i}`)));
    out = emitT2IFinalLayer(g, m.finalLayer, h, tEmb, 'final_layer');
  } else if (m instanceof AdaLnZeroDiT) {
    m.blocks.items.forEach((b, i) => (h = emitAdaLnZeroBlock(g, b, h, yEmb, tEmb, keyMask, `blocks.${i}`)));
    out = emitAdaLnFinalLayer(g, m.finalLayer, h, tEmb, 'final_layer');
  } else {
    throw new Error(`no ONNX emitter for the backbone ${m.constructor.name}`);
  }
  // unpatchify: [B, N, p·p·c] → [B, g, g, p, p, c] → [B, c, g·p, g·p] ('nhwpqc->nchpwq').
  const grid = g.reshape(out, [0, gs, gs, p, p, c]);
  return g.reshape(g.transpose(grid, [0, 5, 1, 3, 2, 4]), [0, c, gs * p, gs * p]);
}

/** DitBackbone.forward: the DiT output split into ε and, with learnSigma, the variance values (each [B, inChannels, h, w]). */
export function emitDitBackbone(g: OnnxBuilder, backbone: DitBackbone, inputs: DitOnnxInputs): { eps: string; variance?: string } {
  const out = emitConditionalDiT(g, backbone.module, inputs);
  if (!backbone.learnSigma) return { eps: out };
  const k = backbone.config.inChannels;
  const [eps, variance] = g.split(out, [k, k], 1) as [string, string];
  return { eps, variance };
}
