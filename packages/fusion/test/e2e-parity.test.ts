// The fusion step of the `mige_encoder_e2e` fixture (fixtures/reference/README.md §10):
// vae_features = x_embedder(cat[ref_vae, 0]) and t5_proj_input = FFM(query_output, vae_features),
// with 3 prompts × 4 image slots (unused slots are zero latents and zero-image Q-Former outputs).
import { tf, type Latents, type TokenSequence } from '@mige/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FfmFusion, type FusionItem } from '../src/index.js';
import { expectClose, fixtureEmbedder, fixtureFfm, get, readFixture, TEST_BACKENDS, useBackend, type ConvPatchEmbedder } from './helpers.js';

const TOL = 1e-4;
const WEIGHTS = 'mige_encoder_e2e/weights.safetensors';
const report: string[] = [];

describe.each(TEST_BACKENDS)('fusion in the encoder e2e fixture on %s', (backend) => {
  let io: Map<string, tf.Tensor>;
  let embedder: ConvPatchEmbedder;
  let fusion: FfmFusion;
  let latents: Latents;
  let tokens: TokenSequence;
  const check = (label: string, a: tf.Tensor, b: tf.Tensor) => report.push(`${backend} ${label}: ${expectClose(a, b, TOL, label).toExponential(2)}`);

  beforeAll(async () => {
    await useBackend(backend);
    io = readFixture('mige_encoder_e2e/io.safetensors');
    embedder = fixtureEmbedder();
    fusion = new FfmFusion(fixtureFfm(WEIGHTS, 'FFM.'));
    latents = tf.reshape(get(io, 'ref_vae'), [12, 4, 8, 8]);
    tokens = get<TokenSequence>(io, 'query_output');
  });

  it('the stand-in patch embedder reproduces vae_features', () => {
    const x = tf.concat([latents, tf.zeros([12, 4, 8, 8])], 1) as tf.Tensor4D;
    check('vae_features', embedder.embed(x), get(io, 'vae_features'));
  });

  it('FFM(query_output, vae_features) is t5_proj_input', () => {
    check('FFM', fusion.module.forward(tokens, get<TokenSequence>(io, 'vae_features')), get(io, 't5_proj_input'));
  });

  it('FfmFusion.fuse pads, embeds and fuses to t5_proj_input', () => {
    check('fuse', fusion.fuse(tokens, latents, embedder), get(io, 't5_proj_input'));
  });

  it('fuseBatch with 4, 1 and 0 images per item gives the matching rows', () => {
    const item = (start: number, n: number): FusionItem => ({
      tokens: rows(tokens, start, n) as TokenSequence,
      latents: rows(latents, start, n) as Latents,
    });
    // Prompt 0 uses slots 0-3 here, prompt 1 its first slot, prompt 2 none.
    const out = fusion.fuseBatch([item(0, 4), item(4, 1), item(8, 0)], embedder);
    const ref = get(io, 't5_proj_input');
    expect(out.map((t) => t.shape)).toEqual([[4, 8, 48], [1, 8, 48], [0, 8, 48]]);
    check('fuseBatch item 0', out[0] as tf.Tensor, rows(ref, 0, 4));
    check('fuseBatch item 1', out[1] as tf.Tensor, rows(ref, 4, 1));
  });

  it('fuseBatch of nothing and of only empty items runs nothing', () => {
    expect(fusion.fuseBatch([], embedder)).toEqual([]);
    const empty: FusionItem = { tokens: tf.zeros([0, 8, 48]), latents: tf.zeros([0, 4, 8, 8]) };
    expect(fusion.fuseBatch([empty, empty], embedder).map((t) => t.shape)).toEqual([[0, 8, 48], [0, 8, 48]]);
  });

  it('zero-latent slots (as the reference pads to 4) give finite outputs', () => {
    // Slots the prompts leave unused are all-zero latents in the fixture; check they are there.
    const slotMax = tf.max(tf.abs(tf.reshape(latents, [12, -1])), 1).arraySync() as number[];
    expect(slotMax.filter((m) => m === 0).length).toBeGreaterThan(0);
    const zeros = tf.zeros([2, 4, 8, 8]) as Latents;
    const out = fusion.fuse(tf.concat([rows(tokens, 0, 1), tf.zeros([1, 8, 48])], 0) as TokenSequence, zeros, embedder);
    expect(out.shape).toEqual([2, 8, 48]);
    expect(tf.all(tf.isFinite(out)).dataSync()[0]).toBe(1);
  });
});

/** Rows start..start+n of the batch axis. */
function rows(t: tf.Tensor, start: number, n: number): tf.Tensor {
  return tf.slice(t, [start, ...t.shape.slice(1).map(() => 0)], [n, ...t.shape.slice(1)]);
}

afterAll(() => {
  if (process.env.FUSION_PARITY_REPORT) console.log(report.join('\n'));
});
