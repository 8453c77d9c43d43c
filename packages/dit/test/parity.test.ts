// MIGE's DiT against the `dit` golden fixture (fixtures/reference/README.md §6): every stored
// intermediate, the output with its learned-sigma half, and the subject-driven CFG case that
// uses the null caption with the prompt's mask. Set DIT_PARITY_REPORT=1 to print the differences.
import { nn, SafetensorsReader, tf, type Latents, type TokenMask, type TokenSequence } from '@mige/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBackbone, MIGE_TINY, PixArtDiT, type DitBackbone } from '../src/index.js';
import { expectClose, fixturePath, get, readFixture, TEST_BACKENDS, useBackend } from './helpers.js';

const TOL = 1e-4;
const report = new Map<string, number>();

function loadFixtureModel(): DitBackbone {
  const backbone = nn.withoutInit(() => createBackbone(MIGE_TINY));
  const reader = SafetensorsReader.open(fixturePath('dit/weights.safetensors'));
  try {
    const r = backbone.module.loadStateDict(reader);
    expect(r).toEqual({ missing: [], unexpected: [], mismatched: [] });
  } finally {
    reader.close();
  }
  return backbone;
}

/** Runs forward keeping every traced intermediate. */
function tracedForward(backbone: DitBackbone, input: Parameters<DitBackbone['forward']>[0]) {
  const traced = new Map<string, tf.Tensor>();
  const out = backbone.forward(input, { trace: (name, v) => traced.set(name, tf.keep(v.clone())) });
  return { out, traced };
}

/** [B, 1, L, C] (MIGE's layout) → [B, L, C] */
const dropCaptionAxis = (y: tf.Tensor) => tf.squeeze(y, [1]) as TokenSequence;

describe.each(TEST_BACKENDS)('MIGE DiT parity on %s', (backend) => {
  let io: Map<string, tf.Tensor>;
  let backbone: DitBackbone;
  const check = (label: string, actual: tf.Tensor, expected: tf.Tensor) => report.set(`${backend} ${label}`, expectClose(actual, expected, TOL, label));

  beforeAll(async () => {
    await useBackend(backend);
    io = readFixture('dit/io.safetensors');
    backbone = loadFixtureModel();
  });

  it('matches every intermediate, the output and its learned-sigma half', () => {
    const { out, traced } = tracedForward(backbone, {
      x: get<Latents>(io, 'x'),
      cond: get<Latents>(io, 'source'),
      t: get<tf.Tensor1D>(io, 'timestep'),
      y: dropCaptionAxis(get(io, 'y')),
      mask: get<TokenMask>(io, 'mask'),
    });
    for (const name of ['t_embedder_out', 't_block_out', 'x_embedder_out', 'block_out.0', 'block_out.1', 'final_layer_out']) {
      check(name, get(traced, name), get(io, name));
    }
    check('y_embedder_out', get(traced, 'y_embedder_out'), dropCaptionAxis(get(io, 'y_embedder_out')));
    const ref = get(io, 'out');
    check('out[:, :4] (eps)', out.eps, tf.slice(ref, [0, 0, 0, 0], [-1, 4, -1, -1]));
    expect(out.variance).toBeDefined();
    check('out[:, 4:] (variance)', out.variance as tf.Tensor, tf.slice(ref, [0, 4, 0, 0], [-1, 4, -1, -1]));
  });

  it('subject-driven CFG: null caption with the prompt mask, then guidance at scale 5', () => {
    const nullY = backbone.nullCondition();
    check('y_embedding_null', nullY, get(io, 'y_embedding_null'));
    const y = tf.concat([tf.expandDims(nullY, 0), dropCaptionAxis(get(io, 'subject.y'))], 0) as TokenSequence;
    const source = get<Latents>(io, 'subject.source');
    const { out, traced } = tracedForward(backbone, {
      x: get<Latents>(io, 'subject.x'),
      cond: tf.concat([source, source], 0) as Latents,
      t: get<tf.Tensor1D>(io, 'subject.timestep'),
      y,
      mask: tf.tile(get(io, 'subject.mask'), [2, 1]) as TokenMask,
    });
    for (const name of ['t_embedder_out', 't_block_out', 'x_embedder_out', 'block_out.0', 'block_out.1', 'final_layer_out']) {
      check(`subject.${name}`, get(traced, name), get(io, `subject.${name}`));
    }
    check('subject.y_embedder_out', get(traced, 'y_embedder_out'), dropCaptionAxis(get(io, 'subject.y_embedder_out')));
    check('subject.eps', out.eps, get(io, 'subject.eps'));
    const [uncond, cond] = tf.split(out.eps, 2, 0) as [tf.Tensor, tf.Tensor];
    check('subject.guided_eps_cfg5', tf.add(uncond, tf.mul(tf.sub(cond, uncond), 5)), get(io, 'subject.guided_eps_cfg5'));
  });

  it('computes the stored pos_embed buffer itself', () => {
    const fresh = nn.withoutInit(() => new PixArtDiT(MIGE_TINY));
    check('pos_embed (computed)', fresh.posEmbed, get(io, 'pos_embed'));
    fresh.dispose();
  });

  it('patch embedder is x_embedder without pos_embed, as MIGE uses it on reference latents', () => {
    const e2e = readFixture('mige_encoder_e2e/io.safetensors');
    const refVae = tf.reshape(get(e2e, 'ref_vae'), [-1, 4, 8, 8]);
    const tokens = backbone.patchEmbedder.embed(tf.concat([refVae, tf.zerosLike(refVae)], 1) as tf.Tensor4D);
    check('patchEmbedder.embed (e2e vae_features)', tokens, get(e2e, 'vae_features'));
  });
});

afterAll(() => {
  if (!process.env.DIT_PARITY_REPORT) return;
  for (const [k, v] of report) console.log(`${k.padEnd(48)} ${v.toExponential(2)}`);
});
