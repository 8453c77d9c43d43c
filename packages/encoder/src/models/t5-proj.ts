import { nn } from '@mige/core';

/**
 * MIGE's `t5_proj`: Linear(Q-Former width → T5 width) with bias, mapping query tokens into the
 * T5 embedding space (768 → 4096 for MIGE with T5-XXL, 48 → 64 in the fixtures).
 */
export function createT5Proj(qformerWidth: number, t5Width: number): nn.Linear {
  return new nn.Linear(qformerWidth, t5Width);
}
