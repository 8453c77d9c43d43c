import { emitLinear, emitParam, emitSilu, type OnnxBuilder } from '@mige/core';
import { emitBlockNorm, emitCrossAttention, emitMlp, emitModulate, emitSelfAttention } from './layers.onnx.js';
import type { PixArtBlock, PixArtDiT, T2IFinalLayer } from './pixart.js';

/** PixArt's adaLN-single: t_block(SiLU(t)) [B, 6D], shared by all blocks. */
export function emitPixArtBlockCondition(g: OnnxBuilder, m: PixArtDiT, t: string): string {
  return emitLinear(g, m.tBlock, emitSilu(g, t), 't_block.1');
}

/** PixArtBlock: x [B, N, D], y [B, L, D], t0 [B, 6D], keyMask (emitCrossAttentionMask) → [B, N, D]. */
export function emitPixArtBlock(g: OnnxBuilder, m: PixArtBlock, x: string, y: string, t0: string, keyMask: string, name: string): string {
  const d = m.hiddenSize;
  const mod = g.add(emitParam(g, `${name}.scale_shift_table`, m.scaleShiftTable), g.reshape(t0, [0, 6, d]));
  const [shiftMsa, scaleMsa, gateMsa, shiftMlp, scaleMlp, gateMlp] = g.split(mod, [1, 1, 1, 1, 1, 1], 1) as [string, string, string, string, string, string];
  const attn = emitSelfAttention(g, m.attn, emitModulate(g, emitBlockNorm(g, x, d), shiftMsa, scaleMsa), `${name}.attn`);
  let h = g.add(x, g.mul(gateMsa, attn));
  h = g.add(h, emitCrossAttention(g, m.crossAttn, h, y, keyMask, `${name}.cross_attn`));
  const mlp = emitMlp(g, m.mlp, emitModulate(g, emitBlockNorm(g, h, d), shiftMlp, scaleMlp), `${name}.mlp`);
  return g.add(h, g.mul(gateMlp, mlp));
}

/** T2IFinalLayer: shift/scale = scale_shift_table + t, LayerNorm, `linear` → [B, N, p·p·c]. */
export function emitT2IFinalLayer(g: OnnxBuilder, m: T2IFinalLayer, x: string, t: string, name: string): string {
  const d = m.linear.inFeatures;
  const table = g.add(emitParam(g, `${name}.scale_shift_table`, m.scaleShiftTable), g.reshape(t, [0, 1, d]));
  const [shift, scale] = g.split(table, [1, 1], 1) as [string, string];
  return emitLinear(g, m.linear, emitModulate(g, emitBlockNorm(g, x, d), shift, scale), `${name}.linear`);
}
