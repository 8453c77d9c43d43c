import { emitLinear, emitSilu, type nn, type OnnxBuilder } from '@mige/core';
import type { AdaLnFinalLayer, AdaLnZeroBlock } from './dit-adaln-zero.js';
import { emitBlockNorm, emitCrossAttention, emitMlp, emitModulate, emitSelfAttention } from './layers.onnx.js';

/** adaLN_modulation(c) = Linear(SiLU(c)) [B, n·D] → n values [B, 1, D] in DiT's chunk order. */
function emitModulationChunks(g: OnnxBuilder, linear: nn.Linear, c: string, chunks: number, name: string): string[] {
  const d = linear.inFeatures;
  const y = g.reshape(emitLinear(g, linear, emitSilu(g, c), `${name}.adaLN_modulation.1`), [0, chunks, d]);
  return g.split(y, Array<number>(chunks).fill(1), 1);
}

/** AdaLnZeroBlock: x [B, N, D], y [B, L, D], t [B, D], keyMask (emitCrossAttentionMask) → [B, N, D]. */
export function emitAdaLnZeroBlock(g: OnnxBuilder, m: AdaLnZeroBlock, x: string, y: string, t: string, keyMask: string, name: string): string {
  const d = m.hiddenSize;
  const [shiftMsa, scaleMsa, gateMsa, shiftMlp, scaleMlp, gateMlp] = emitModulationChunks(g, m.adaLnModulation, t, 6, name) as [string, string, string, string, string, string];
  const attn = emitSelfAttention(g, m.attn, emitModulate(g, emitBlockNorm(g, x, d), shiftMsa, scaleMsa), `${name}.attn`);
  let h = g.add(x, g.mul(gateMsa, attn));
  h = g.add(h, emitCrossAttention(g, m.crossAttn, h, y, keyMask, `${name}.cross_attn`));
  const mlp = emitMlp(g, m.mlp, emitModulate(g, emitBlockNorm(g, h, d), shiftMlp, scaleMlp), `${name}.mlp`);
  return g.add(h, g.mul(gateMlp, mlp));
}

/** AdaLnFinalLayer: shift/scale regressed from t, LayerNorm, `linear` → [B, N, p·p·c]. */
export function emitAdaLnFinalLayer(g: OnnxBuilder, m: AdaLnFinalLayer, x: string, t: string, name: string): string {
  const [shift, scale] = emitModulationChunks(g, m.adaLnModulation, t, 2, name) as [string, string];
  return emitLinear(g, m.linear, emitModulate(g, emitBlockNorm(g, x, m.linear.inFeatures), shift, scale), `${name}.linear`);
}
