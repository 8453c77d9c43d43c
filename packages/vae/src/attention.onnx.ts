import { emitAttention, emitGroupNorm, emitLinear, type OnnxBuilder } from '@mige/core';
import type { VaeAttention } from './attention.js';

/**
 * VaeAttention on NCHW x [B, C, H, W]: GroupNorm, single-head attention over the H·W positions
 * (scale C^-½), `to_out.0`, plus the residual. GroupNorm is per (sample, group) whatever the
 * layout, so it runs before the positions are laid out as rows.
 */
export function emitVaeAttention(g: OnnxBuilder, m: VaeAttention, x: string, name: string): string {
  const c = m.channels;
  const rows = (t: string) => g.transpose(g.reshape(t, [0, c, -1]), [0, 2, 1]); // [B, H·W, C]
  const seq = rows(x);
  const normed = rows(emitGroupNorm(g, m.groupNorm, x, `${name}.group_norm`));
  const q = emitLinear(g, m.toQ, normed, `${name}.to_q`);
  const k = emitLinear(g, m.toK, normed, `${name}.to_k`);
  const v = emitLinear(g, m.toV, normed, `${name}.to_v`);
  const attended = emitAttention(g, q, k, v, { heads: 1, scale: 1 / Math.sqrt(c) });
  const out = g.add(emitLinear(g, m.toOut.at(0), attended, `${name}.to_out.0`), seq);
  return g.reshapeTo(g.transpose(out, [0, 2, 1]), g.shape(x));
}
