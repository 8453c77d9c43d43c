import { emitGELU, emitLayerNorm, emitLinear, emitMultiheadAttention, type OnnxBuilder } from '@mige/core';
import type { FFM } from './ffm.js';
import type { ProjectionMlp } from './projection.js';

/** ProjectionMlp: `0` → exact GELU → `2`. */
export function emitProjectionMlp(g: OnnxBuilder, m: ProjectionMlp, x: string, name: string): string {
  return emitLinear(g, m.fc2, emitGELU(g, m.act, emitLinear(g, m.fc1, x, `${name}.0`)), `${name}.2`);
}

/** FFM: clip [B, Q, kvDim], vae [B, N, vaeDim] → ln_out(clip + mlp(clip_attn(q, k, v))) [B, Q, embedDim]. */
export function emitFFM(g: OnnxBuilder, m: FFM, clip: string, vae: string, name = 'FFM'): string {
  const key = emitLayerNorm(g, m.ln_k_1, emitProjectionMlp(g, m.k_proj_1, vae, `${name}.k_proj_1`), `${name}.ln_k_1`);
  const value = emitLayerNorm(g, m.ln_v_1, emitProjectionMlp(g, m.v_proj_1, vae, `${name}.v_proj_1`), `${name}.ln_v_1`);
  const query = emitLayerNorm(g, m.ln_q_1, emitLinear(g, m.q_proj_1, clip, `${name}.q_proj_1`), `${name}.ln_q_1`);
  const attn = emitMultiheadAttention(g, m.clip_attn, query, key, value, `${name}.clip_attn`);
  return emitLayerNorm(g, m.ln_out, g.add(clip, emitLinear(g, m.mlp, attn, `${name}.mlp`)), `${name}.ln_out`);
}
