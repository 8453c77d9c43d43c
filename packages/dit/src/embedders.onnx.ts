import { emitConv2d, emitLinear, emitSilu, type OnnxBuilder } from '@mige/core';
import type { CaptionEmbedder, PatchEmbed, TimestepEmbedder } from './embedders.js';
import { TIMESTEP_FREQUENCY_SIZE } from './embedders.js';
import { emitMlp } from './layers.onnx.js';

/** PatchEmbed: x [B, C, H, W] → tokens [B, (H/p)·(W/p), D] (the conv, flattened row-major). */
export function emitPatchEmbed(g: OnnxBuilder, m: PatchEmbed, x: string, name: string): string {
  const y = emitConv2d(g, m.proj, x, `${name}.proj`); // [B, D, H/p, W/p]
  return g.transpose(g.reshape(y, [0, m.hiddenSize, -1]), [0, 2, 1]);
}

/**
 * The timestep frequencies exp(−ln(10000)·k/half), rounded to float32 step by step exactly as
 * embedders.ts computes them (the module keeps its copy private).
 */
function timestepFrequencies(half: number): Float32Array {
  const f = Math.fround;
  const negLog = f(-Math.log(10000));
  return Float32Array.from({ length: half }, (_, k) => f(Math.exp(f(f(negLog * k) / half))));
}

/** TimestepEmbedder: t [B] float → [cos(t·f), sin(t·f)] → mlp.0 → SiLU → mlp.2 → [B, D]. */
export function emitTimestepEmbedder(g: OnnxBuilder, m: TimestepEmbedder, t: string, name: string): string {
  const half = TIMESTEP_FREQUENCY_SIZE / 2;
  const freqs = g.constantF32(`${name}.freqs`, timestepFrequencies(half), [1, half]);
  const args = g.mul(g.unsqueeze(t, [1]), freqs);
  const emb = g.concat([g.cos(args), g.sin(args)], 1);
  return emitLinear(g, m.fc2, emitSilu(g, emitLinear(g, m.fc1, emb, `${name}.mlp.0`)), `${name}.mlp.2`);
}

/** CaptionEmbedder: y [B, L, C] → y_proj → [B, L, D]. */
export function emitCaptionEmbedder(g: OnnxBuilder, m: CaptionEmbedder, y: string, name: string): string {
  return emitMlp(g, m.yProj, y, `${name}.y_proj`);
}
