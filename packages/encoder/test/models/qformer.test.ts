// BLIP-2 Q-Former against the `qformer` golden fixture (fixtures/reference/README.md §4), and
// the HF Blip2 key layout on a renamed copy of the fixture weights.
import { MigeInputError, nn, tf, type TokenSequence } from '@mige/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createT5Proj, hfQFormerKey, QFormer, QFORMER_TINY } from '../../src/models/index.js';
import { expectClose, get, parityReport, printParityReport, readFixture, TEST_BACKENDS, tracer, useBackend } from './helpers.js';

const TOL = 1e-4;
const CLEAN = { missing: [], unexpected: [], mismatched: [] };

/** LAVIS → HF Blip2ForConditionalGeneration names, the inverse of hfQFormerKey. */
function toHfKey(key: string): string {
  if (key === 'query_tokens') return key;
  const rest = key.replace(/^Qformer\.bert\./, '');
  if (rest.startsWith('embeddings.LayerNorm.')) return `qformer.layernorm.${rest.slice('embeddings.LayerNorm.'.length)}`;
  return `qformer.${rest.replace(/^(encoder\.layer\.\d+\.(?:attention|crossattention))\.self\./, '$1.attention.')}`;
}

describe.each(TEST_BACKENDS)('Q-Former parity on %s', (backend) => {
  let io: Map<string, tf.Tensor>;
  let weights: Map<string, tf.Tensor>;
  let model: QFormer;
  const check = (label: string, a: tf.Tensor, e: tf.Tensor) => parityReport.set(`qformer ${backend} ${label}`, expectClose(a, e, TOL, label));

  beforeAll(async () => {
    await useBackend(backend);
    io = readFixture('qformer/io.safetensors');
    weights = readFixture('qformer/weights.safetensors');
    model = nn.withoutInit(() => new QFormer(QFORMER_TINY));
    // The fixture holds the unused position_ids buffer: dropped, so nothing is reported.
    expect(model.loadStateDict(weights)).toEqual(CLEAN);
  });
  afterAll(() => {
    printParityReport();
    model.dispose();
  });

  it('matches embeddings_out, every layer and last_hidden_state', () => {
    const { traced, trace } = tracer();
    const out = model.forward(get<TokenSequence>(io, 'image_embeds'), { trace });
    check('query_tokens_expanded', tf.broadcastTo(model.queryTokens, [2, 8, 48]), get(io, 'query_tokens_expanded'));
    for (const name of ['embeddings_out', 'layer_out.0', 'layer_out.1']) check(name, get(traced, name), get(io, name));
    check('last_hidden_state', out, get(io, 'last_hidden_state'));
  });

  it('loads the HF Blip2 layout (text-path tensors dropped) and computes the same', () => {
    const hf = new Map<string, tf.Tensor>();
    for (const [k, v] of weights) if (!k.endsWith('position_ids')) hf.set(toHfKey(k), v);
    // What an HF Blip2 checkpoint also holds and MIGE does not use.
    hf.set('qformer.encoder.layer.0.intermediate.dense.weight', tf.zeros([96, 48]));
    hf.set('qformer.encoder.layer.1.output.LayerNorm.weight', tf.zeros([48]));
    expect(hf.has('qformer.encoder.layer.0.attention.attention.query.weight')).toBe(true);
    expect(hf.has('qformer.encoder.layer.0.crossattention.attention.key.bias')).toBe(true);
    expect(hf.has('qformer.layernorm.weight')).toBe(true);
    const hfModel = nn.withoutInit(() => new QFormer(QFORMER_TINY));
    expect(hfModel.loadStateDict(hf)).toEqual(CLEAN);
    check('last_hidden_state (HF layout)', hfModel.forward(get<TokenSequence>(io, 'image_embeds')), get(io, 'last_hidden_state'));
    hfModel.dispose();
  });

  it('has gradients for every parameter and rejects a wrong image width', () => {
    const imgs = get<TokenSequence>(io, 'image_embeds');
    const { grads } = tf.variableGrads(() => tf.sum(model.forward(imgs)) as tf.Scalar);
    expect(Object.keys(grads).length).toBe(model.parameters().length);
    tf.dispose(grads);
    expect(() => model.forward(tf.zeros([2, 5, 47]) as TokenSequence)).toThrow(MigeInputError);
  });
});

describe('Q-Former keys', () => {
  beforeAll(async () => {
    await useBackend('cpu');
  });

  it('maps HF names, drops the text path and passes other keys through', () => {
    expect(hfQFormerKey('qformer.encoder.layer.3.crossattention.attention.value.weight')).toBe('Qformer.bert.encoder.layer.3.crossattention.self.value.weight');
    expect(hfQFormerKey('qformer.encoder.layer.3.attention.output.LayerNorm.bias')).toBe('Qformer.bert.encoder.layer.3.attention.output.LayerNorm.bias');
    expect(hfQFormerKey('qformer.encoder.layer.3.output_query.dense.weight')).toBe('Qformer.bert.encoder.layer.3.output_query.dense.weight');
    expect(hfQFormerKey('qformer.encoder.layer.3.output.dense.weight')).toBeUndefined();
    expect(hfQFormerKey('qformer.layernorm.bias')).toBe('Qformer.bert.embeddings.LayerNorm.bias');
    expect(hfQFormerKey('language_projection.weight')).toBe('language_projection.weight');
  });

  it('state dict keys equal the fixture keys minus position_ids; layer 1 has no cross-attention', () => {
    const model = nn.withoutInit(() => new QFormer(QFORMER_TINY));
    const ref = [...readFixture('qformer/weights.safetensors').keys()].filter((k) => !k.endsWith('position_ids'));
    expect(new Set(model.stateDict().keys())).toEqual(new Set(ref));
    expect([...model.stateDict().keys()].some((k) => k.includes('layer.1.crossattention'))).toBe(false);
    model.dispose();
  });

  it('reports a strict load problem by name', () => {
    const model = nn.withoutInit(() => new QFormer(QFORMER_TINY));
    const w = readFixture('qformer/weights.safetensors');
    w.delete('query_tokens');
    expect(() => model.loadStateDict(w)).toThrow(/missing keys: query_tokens/);
    model.dispose();
  });

  it('t5_proj loads the e2e fixture weights and maps 48 → 64', () => {
    const proj = nn.withoutInit(() => createT5Proj(48, 64));
    const w = readFixture('mige_encoder_e2e/weights.safetensors');
    const sd = new Map([...w].filter(([k]) => k.startsWith('t5_proj.')).map(([k, v]) => [k.slice('t5_proj.'.length), v]));
    expect(proj.loadStateDict(sd)).toEqual(CLEAN);
    const io = readFixture('mige_encoder_e2e/io.safetensors');
    const x = get(io, 't5_proj_input');
    const y = proj.forward(x);
    expect(y.shape).toEqual([...x.shape.slice(0, -1), 64]);
    proj.dispose();
  });
});
