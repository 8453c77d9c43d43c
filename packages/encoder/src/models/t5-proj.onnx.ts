import { emitLinear, type nn, type OnnxBuilder } from '@mige/core';

/** t5_proj: query tokens [B, Q, qformerWidth] → [B, Q, t5Width]. */
export function emitT5Proj(g: OnnxBuilder, m: nn.Linear, x: string): string {
  return emitLinear(g, m, x, 't5_proj');
}
