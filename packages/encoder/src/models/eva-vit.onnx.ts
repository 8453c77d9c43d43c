import { emitAttention, emitConv2d, emitGeluErf, emitLayerNorm, emitLinear, emitParam, type OnnxBuilder } from '@mige/core';
import type { EvaViT } from './eva-vit.js';

/** The block, attention and MLP types are module-private; their shapes come through EvaViT's fields. */
type EvaBlock = EvaViT['blocks']['items'][number];
type EvaAttention = EvaBlock['attn'];

/** EVA attention: `qkv` (no bias) + [q_bias, 0, v_bias], q scaled by head_dim^-½, `proj`. */
function emitEvaAttention(g: OnnxBuilder, m: EvaAttention, x: string, name: string): string {
  const d = m.dim;
  const bias = g.concat([emitParam(g, `${name}.q_bias`, m.qBias), g.constantF32('zeros', new Float32Array(d), [d]), emitParam(g, `${name}.v_bias`, m.vBias)], 0);
  const qkv = g.add(emitLinear(g, m.qkv, x, `${name}.qkv`), bias);
  const [q, k, v] = g.split(qkv, [d, d, d], -1) as [string, string, string];
  const out = emitAttention(g, q, k, v, { heads: m.numHeads, scale: 1 / Math.sqrt(d / m.numHeads) });
  return emitLinear(g, m.proj, out, `${name}.proj`);
}

/** Pre-norm block: x += attn(norm1(x)); x += fc2(GELU_erf(fc1(norm2(x)))). */
function emitEvaBlock(g: OnnxBuilder, m: EvaBlock, x: string, name: string): string {
  const y = g.add(x, emitEvaAttention(g, m.attn, emitLayerNorm(g, m.norm1, x, `${name}.norm1`), `${name}.attn`));
  const hidden = emitLinear(g, m.mlp.fc1, emitLayerNorm(g, m.norm2, y, `${name}.norm2`), `${name}.mlp.fc1`);
  return g.add(y, emitLinear(g, m.mlp.fc2, emitGeluErf(g, hidden), `${name}.mlp.fc2`));
}

/** EvaViT: images [B, 3, S, S] (normalised) → [B, 1 + N, D], cls token first, no final norm. */
export function emitEvaViT(g: OnnxBuilder, m: EvaViT, images: string, name: string): string {
  const d = m.config.embedDim;
  const conv = emitConv2d(g, m.patchEmbed.proj, images, `${name}.patch_embed.proj`); // [B, D, S/p, S/p]
  const patches = g.transpose(g.reshape(conv, [0, d, -1]), [0, 2, 1]);
  // cls_token [1, 1, D] broadcast to the (possibly dynamic) batch.
  const clsShape = g.concat([g.shape(patches, 0, 1), g.constantI64([1, d])], 0);
  const cls = g.expand(emitParam(g, `${name}.cls_token`, m.clsToken), clsShape);
  let h = g.add(g.concat([cls, patches], 1), emitParam(g, `${name}.pos_embed`, m.posEmbed));
  m.blocks.items.forEach((b, i) => (h = emitEvaBlock(g, b, h, `${name}.blocks.${i}`)));
  return h;
}
