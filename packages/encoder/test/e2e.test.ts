// End-to-end parity of the composed instruction encoder against `mige_encoder_e2e`
// (fixtures/reference/README.md §10): prompts + images + latents → batch_mixed_embs, batch_attn,
// text_encoder_embs. The encoder may not import @mige/fusion, so the FeatureFusion here is a
// test stand-in that ISOLATES THE ENCODER: it finds each incoming Q-Former row in the fixture's
// `query_output` (checking our ViT → Q-Former on the way) and returns the fixture's own FFM
// output `t5_proj_input` for it, whose parity @mige/fusion tests.
import { readFileSync } from 'node:fs';
import {
  nn,
  SafetensorsReader,
  tf,
  type EncoderInput,
  type FeatureFusion,
  type FusionItem,
  type Latents,
  type PatchEmbedder,
  type TokenSequence,
} from '@mige/core';
import { expectClose, fixturePath, maxAbsDiff, readFixture, TEST_BACKENDS, useBackend } from '@mige/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIGE_ENCODER_TINY, MigeInstructionEncoder, T5Tokenizer } from '../src/index.js';

const TOL = 2e-4; // the README's e2e tolerance
const report = new Map<string, number>();

interface E2eConfig {
  prompts: string[];
  images_per_prompt: number[];
}

function get<T extends tf.Tensor = tf.Tensor>(m: Map<string, tf.Tensor>, key: string): T {
  const t = m.get(key);
  if (!t) throw new Error(`fixture has no tensor ${key}`);
  return t as T;
}

/** Returns the fixture's FFM output for the fixture row whose Q-Former tokens match. */
class FixtureRowFusion implements FeatureFusion {
  readonly type = 'fixture-rows';
  /** Largest difference between our Q-Former rows and the fixture's matched rows. */
  worstQuery = 0;
  constructor(private readonly io: Map<string, tf.Tensor>) {}

  fuse(queryTokens: TokenSequence, referenceLatents: Latents, _patchEmbedder: PatchEmbedder): TokenSequence {
    const ref = get(this.io, 'query_output');
    const vae = tf.reshape(get(this.io, 'ref_vae'), [12, 4, 8, 8]);
    const rows: number[] = [];
    for (let i = 0; i < queryTokens.shape[0]; i++) {
      const mine = tf.slice(queryTokens, i, 1);
      const diffs = Array.from({ length: ref.shape[0] as number }, (_, r) => maxAbsDiff(mine, tf.slice(ref, r, 1)));
      const best = diffs.indexOf(Math.min(...diffs));
      this.worstQuery = Math.max(this.worstQuery, diffs[best] as number);
      // The latents must travel with their image.
      expect(maxAbsDiff(tf.slice(referenceLatents, i, 1), tf.slice(vae, best, 1))).toBe(0);
      rows.push(best);
    }
    return tf.gather(get(this.io, 't5_proj_input'), rows) as TokenSequence;
  }

  fuseBatch(items: readonly FusionItem[], patchEmbedder: PatchEmbedder): TokenSequence[] {
    return items.map((it) => (it.tokens.shape[0] === 0 ? tf.clone(it.tokens) : this.fuse(it.tokens, it.latents, patchEmbedder)));
  }
}

/** Never called by the stand-in fusion; present because the interface passes one. */
const unusedEmbedder: PatchEmbedder = {
  patchSize: 2,
  inChannels: 8,
  hiddenSize: 64,
  embed: () => {
    throw new Error('not used');
  },
};

describe.each(TEST_BACKENDS)('MigeInstructionEncoder vs mige_encoder_e2e on %s', (backend) => {
  let io: Map<string, tf.Tensor>;
  let encoder: MigeInstructionEncoder;
  let batch: EncoderInput[];
  const config = JSON.parse(readFileSync(fixturePath('mige_encoder_e2e/config.json'), 'utf8')) as E2eConfig;

  beforeAll(async () => {
    await useBackend(backend);
    io = readFixture('mige_encoder_e2e/io.safetensors');
    const tokenizer = T5Tokenizer.fromTokenizerJson(fixturePath('t5_tokenizer/tokenizer.json'));
    encoder = nn.withoutInit(() => new MigeInstructionEncoder(tokenizer, MIGE_ENCODER_TINY));
    const reader = SafetensorsReader.open(fixturePath('mige_encoder_e2e/weights.safetensors'));
    try {
      const own = (k: string): boolean => !k.startsWith('FFM.') && !k.startsWith('x_embedder.');
      // The state dict is MIGE's minus fusion / backbone keys and the Q-Former's unused position_ids buffer.
      const expected = reader.keys().filter((k) => own(k) && k !== 'Qformer.bert.embeddings.position_ids');
      expect([...encoder.module.stateDict().keys()].sort()).toEqual(expected.sort());
      const r = encoder.module.loadStateDict(nn.renameKeys(reader, (k) => (own(k) ? k : undefined)));
      expect(r).toEqual({ missing: [], unexpected: [], mismatched: [] });
    } finally {
      reader.close();
    }
    // Only the used slots: prompt b has images_per_prompt[b] images, the rest of its 4 are empty.
    batch = config.prompts.map((text, b) => {
      const n = config.images_per_prompt[b] as number;
      return {
        text,
        images: tf.reshape(tf.slice(get(io, 'ref_clip'), [b, 0, 0, 0, 0], [1, n, 3, 28, 28]), [n, 3, 28, 28]) as tf.Tensor4D,
        latents: tf.reshape(tf.slice(get(io, 'ref_vae'), [b, 0, 0, 0, 0], [1, n, 4, 8, 8]), [n, 4, 8, 8]) as Latents,
      };
    });
  });
  afterAll(() => {
    if (process.env.PARITY_REPORT === '1') for (const [k, v] of report) if (k.startsWith(backend)) console.log(`${k}: ${v.toExponential(2)}`);
    encoder.module.dispose();
  });

  it('interleaves text and image tokens as get_context_emb does', () => {
    const fusion = new FixtureRowFusion(io);
    const { inputsEmbeds, mask, warnings } = encoder.embed(batch, { fusion, patchEmbedder: unusedEmbedder });
    expect(fusion.worstQuery).toBeLessThan(TOL);
    report.set(`${backend} query_output`, fusion.worstQuery);
    report.set(`${backend} batch_mixed_embs`, expectClose(inputsEmbeds, get(io, 'batch_mixed_embs'), TOL, 'batch_mixed_embs'));
    expect(Array.from(mask.dataSync())).toEqual(Array.from(get(io, 'batch_attn').dataSync()));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^batch\[2\]: 62 tokens .* maxLength 32/);
  });

  it('encodes to text_encoder_embs', () => {
    const { y, mask, warnings } = encoder.encode(batch, { fusion: new FixtureRowFusion(io), patchEmbedder: unusedEmbedder });
    expect(y.shape).toEqual([3, 32, 64]);
    expect(mask.dtype).toBe('int32');
    expect(warnings.map((w) => w.slice(0, 9))).toEqual(['batch[2]:']);
    report.set(`${backend} text_encoder_embs`, expectClose(y, get(io, 'text_encoder_embs'), TOL, 'text_encoder_embs'));
  });
});
