import { MigeInputError } from '@mige/core';

/**
 * The FFM's sizes, named after the reference constructor `FFM(embed_dim, num_heads, kv_dim)`
 * plus the DiT hidden size the reference hardcodes (1152) as `vaeDim`.
 */
export interface FfmConfig {
  /** Attention width; also the output width (the residual adds the Q-Former tokens to it). */
  embedDim: number;
  numHeads: number;
  /**
   * Width of the Q-Former tokens that `q_proj_1` takes (the reference's `kv_dim`, despite the
   * name: keys and values come from `vaeDim`). Must equal `embedDim` for the residual.
   */
  kvDim: number;
  /** Width of the patch-embedder tokens (the DiT hidden size) that `k_proj_1` / `v_proj_1` take. */
  vaeDim: number;
  /** LayerNorm eps (the reference's `partial(nn.LayerNorm, eps=1e-6)`). */
  eps: number;
}

/**
 * MIGE's FFM: `self.FFM = FFM()`, so the constructor defaults embed_dim 768, num_heads 8,
 * kv_dim 768 (the Q-Former width), and 1152 from the hardcoded `nn.Linear(1152, 768)` (the
 * MIGE_XL_2 DiT hidden size).
 */
export const FFM_MIGE: Readonly<FfmConfig> = Object.freeze({ embedDim: 768, numHeads: 8, kvDim: 768, vaeDim: 1152, eps: 1e-6 });

/** The `ffm` golden fixture's size: FFM(embed_dim=48, num_heads=4, kv_dim=48) with DiT hidden 64. */
export const FFM_TINY: Readonly<FfmConfig> = Object.freeze({ embedDim: 48, numHeads: 4, kvDim: 48, vaeDim: 64, eps: 1e-6 });

export function validateFfmConfig(c: FfmConfig): void {
  const where = 'FfmConfig';
  for (const k of ['embedDim', 'numHeads', 'kvDim', 'vaeDim'] as const) {
    if (!Number.isInteger(c[k]) || c[k] <= 0) throw new MigeInputError(`${k} must be a positive integer, got ${c[k]}`, where);
  }
  if (!(c.eps > 0)) throw new MigeInputError(`eps must be positive, got ${c.eps}`, where);
  if (c.embedDim % c.numHeads !== 0) throw new MigeInputError(`embedDim ${c.embedDim} is not divisible by numHeads ${c.numHeads}`, where);
  if (c.kvDim !== c.embedDim) {
    throw new MigeInputError(`kvDim ${c.kvDim} must equal embedDim ${c.embedDim}: the output adds the query tokens back`, where);
  }
}

/** Which fusion a model uses: MIGE's FFM, or none (the paper's "wo_VAE feature" ablation). */
export type FusionConfig = { type: 'ffm'; ffm: FfmConfig } | { type: 'none' };
