// The neural stages of `mige_encoder_e2e` (fixtures/reference/README.md §10) with MIGE's own
// checkpoint key names: ViT → ln_vision → Q-Former, t5_proj, and the T5 encoder on the mixed
// text + image embeddings. (FFM and the prompt interleaving live in other packages / modules.)
import { nn, SafetensorsReader, tf, type ImageBatch, type TokenMask, type TokenSequence } from '@mige/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createT5Proj, EVA_VIT_TINY, QFormer, QFORMER_TINY, T5_TINY, T5Encoder, VisionEncoder } from '../../src/models/index.js';
import { expectClose, fixturePath, get, parityReport, printParityReport, readFixture, TEST_BACKENDS, tracer, useBackend } from './helpers.js';

const TOL = 2e-4;
const CLEAN = { missing: [], unexpected: [], mismatched: [] };

/** The checkpoint's tensors under `prefixes`, with `strip` removed from their names. */
function part(reader: SafetensorsReader, prefixes: string[], strip = ''): nn.TensorReader {
  return nn.renameKeys(reader, (k) => (prefixes.some((p) => k.startsWith(p)) ? k.slice(strip.length) : undefined));
}

describe.each(TEST_BACKENDS)('MIGE encoder stages on %s', (backend) => {
  let io: Map<string, tf.Tensor>;
  let reader: SafetensorsReader;
  const check = (label: string, a: tf.Tensor, e: tf.Tensor) => parityReport.set(`e2e ${backend} ${label}`, expectClose(a, e, TOL, label));

  beforeAll(async () => {
    await useBackend(backend);
    io = readFixture('mige_encoder_e2e/io.safetensors');
    reader = SafetensorsReader.open(fixturePath('mige_encoder_e2e/weights.safetensors'));
  });
  afterAll(() => {
    printParityReport();
    reader.close();
  });

  it('ViT → ln_vision → Q-Former on 12 image slots', () => {
    const vision = nn.withoutInit(() => new VisionEncoder(EVA_VIT_TINY));
    expect(vision.loadStateDict(part(reader, ['visual_encoder.', 'ln_vision.']))).toEqual(CLEAN);
    const qformer = nn.withoutInit(() => new QFormer(QFORMER_TINY));
    expect(qformer.loadStateDict(part(reader, ['Qformer.', 'query_tokens']))).toEqual(CLEAN);
    const { traced, trace } = tracer();
    const images = tf.reshape(get(io, 'ref_clip'), [12, 3, 28, 28]) as ImageBatch;
    const embeds = vision.forward(images, { trace });
    check('vit_out', get(traced, 'vit_out'), get(io, 'vit_out'));
    check('image_embeds', embeds, get(io, 'image_embeds'));
    check('query_output', qformer.forward(embeds), get(io, 'query_output'));
    vision.dispose();
    qformer.dispose();
  });

  it('t5_proj', () => {
    const proj = nn.withoutInit(() => createT5Proj(48, 64));
    expect(proj.loadStateDict(part(reader, ['t5_proj.'], 't5_proj.'))).toEqual(CLEAN);
    check('t5_proj_emb', tf.reshape(proj.forward(get(io, 't5_proj_input')), [3, 4, 8, 64]), get(io, 't5_proj_emb'));
    proj.dispose();
  });

  it('T5 encoder on the interleaved embeddings (padded and truncated prompts)', () => {
    const t5 = nn.withoutInit(() => new T5Encoder(T5_TINY));
    expect(t5.loadStateDict(part(reader, ['t5_model.'], 't5_model.'))).toEqual(CLEAN);
    const out = t5.forward({ inputsEmbeds: get<TokenSequence>(io, 'batch_mixed_embs'), attentionMask: get<TokenMask>(io, 'batch_attn') });
    check('text_encoder_embs', out, get(io, 'text_encoder_embs'));
    t5.dispose();
  });
});
