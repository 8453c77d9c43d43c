import { nn, SafetensorsReader, tf, type PatchEmbedder, type TokenSequence } from '@mige/core';
import { fixturePath } from '@mige/core/testing';
import { FFM, FFM_TINY } from '../src/index.js';

export { TEST_BACKENDS, expectClose, fixturePath, maxAbsDiff, readFixture, useBackend } from '@mige/core/testing';

/** Looks a tensor up by name, failing clearly when it is absent. */
export function get<T extends tf.Tensor = tf.Tensor>(m: Map<string, tf.Tensor>, name: string): T {
  const t = m.get(name);
  if (!t) throw new Error(`fixture has no tensor ${name}`);
  return t as T;
}

/**
 * A stand-in for the DiT's `x_embedder` (PixArt PatchEmbed without pos_embed): a patchify conv
 * [B, C, H, W] → [B, C_out, H/p, W/p] → tokens [B, (H/p)·(W/p), C_out] in row-major order.
 * Fusion must not import @mige/dit, so the tests build their own.
 */
export class ConvPatchEmbedder extends nn.Module implements PatchEmbedder {
  readonly proj: nn.Conv2d;
  constructor(readonly inChannels: number, readonly hiddenSize: number, readonly patchSize: number) {
    super();
    this.proj = this.module('proj', new nn.Conv2d(inChannels, hiddenSize, patchSize, { stride: patchSize }));
  }
  embed(x: tf.Tensor4D): TokenSequence {
    return tf.tidy(() => {
      const y = this.proj.forward(x);
      const [b, c, h, w] = y.shape;
      return tf.transpose(tf.reshape(y, [b, c, h * w]), [0, 2, 1]) as TokenSequence;
    });
  }
}

/** Loads the keys under `prefix` of a fixture's weights into `module` (strictly). */
export function loadPrefixed(module: nn.Module, rel: string, prefix: string): void {
  const reader = SafetensorsReader.open(fixturePath(rel));
  try {
    module.loadStateDict(nn.renameKeys(reader, (k) => (k.startsWith(prefix) ? k.slice(prefix.length) : undefined)), { source: rel });
  } finally {
    reader.close();
  }
}

/** The `mige_encoder_e2e` fixture's x_embedder: Conv2d(8 → 64, 2×2, stride 2). */
export function fixtureEmbedder(): ConvPatchEmbedder {
  const e = nn.withoutInit(() => new ConvPatchEmbedder(8, 64, 2));
  loadPrefixed(e, 'mige_encoder_e2e/weights.safetensors', 'x_embedder.');
  return e;
}

/** An FFM at the tiny size with the weights stored under `prefix` in a fixture file. */
export function fixtureFfm(rel: string, prefix: string): FFM {
  const ffm = nn.withoutInit(() => new FFM(FFM_TINY));
  loadPrefixed(ffm, rel, prefix);
  return ffm;
}
