import type { OnnxBuilder } from '@mige/core';
import { emitFFM } from './ffm.onnx.js';
import type { FfmFusion } from './fusion.js';

const LATENT_CHANNELS = 4;

/**
 * FfmFusion.fuse: the reference latent [B, 4, h, w] zero-padded on channels to the patch
 * embedder's `embedChannels`, embedded by `embedPatches` (the backbone's patch-embedder emitter,
 * which this package cannot import), then the FFM with the query tokens [B, Q, D] → [B, Q, D].
 */
export function emitFfmFusion(
  g: OnnxBuilder,
  fusion: FfmFusion,
  queryTokens: string,
  latents: string,
  embedChannels: number,
  embedPatches: (padded: string) => string,
): string {
  const extra = embedChannels - LATENT_CHANNELS;
  const padded = extra === 0 ? latents : g.pad(latents, [0, 0, 0, 0, 0, extra, 0, 0]);
  return emitFFM(g, fusion.module, queryTokens, embedPatches(padded));
}
