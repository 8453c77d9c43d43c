// T5 v1.1 encoder against the `t5_encoder` golden fixture (fixtures/reference/README.md §2).
import { mkdtempSync, copyFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MigeInputError, nn, SafetensorsReader, tf, writeSafetensors, type TokenMask, type TokenSequence } from '@mige/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadT5Encoder, relativePositionBucket, T5_TINY, T5Encoder, parseT5Config } from '../../src/models/index.js';
import { expectClose, fixturePath, get, parityReport, printParityReport, readFixture, TEST_BACKENDS, tracer, useBackend } from './helpers.js';

const TOL = 1e-4;

function loadFixtureModel(): T5Encoder {
  const model = nn.withoutInit(() => new T5Encoder(T5_TINY));
  const reader = SafetensorsReader.open(fixturePath('t5_encoder/weights.safetensors'));
  try {
    expect(model.loadStateDict(reader)).toEqual({ missing: [], unexpected: [], mismatched: [] });
  } finally {
    reader.close();
  }
  return model;
}

describe('relative position buckets', () => {
  beforeAll(async () => {
    await useBackend('cpu');
  });
  it('match the 300 × 300 reference table exactly', () => {
    const ref = readFixture('t5_encoder/io.safetensors');
    const table = get(ref, 'relative_position_bucket_300').dataSync();
    let mismatches = 0;
    for (let i = 0; i < 300; i++) {
      for (let j = 0; j < 300; j++) if (relativePositionBucket(j - i, 32, 128) !== table[i * 300 + j]) mismatches++;
    }
    expect(mismatches).toBe(0);
  });
});

describe.each(TEST_BACKENDS)('T5Encoder parity on %s', (backend) => {
  let io: Map<string, tf.Tensor>;
  let model: T5Encoder;
  const check = (label: string, a: tf.Tensor, e: tf.Tensor) => parityReport.set(`t5 ${backend} ${label}`, expectClose(a, e, TOL, label));

  beforeAll(async () => {
    await useBackend(backend);
    io = readFixture('t5_encoder/io.safetensors');
    model = loadFixtureModel();
  });
  afterAll(() => {
    printParityReport();
    model.dispose();
  });

  it('caseA: input ids with padding, every intermediate', () => {
    const { traced, trace } = tracer();
    const out = model.forward({ inputIds: get<tf.Tensor2D>(io, 'caseA.input_ids'), attentionMask: get<TokenMask>(io, 'caseA.attention_mask') }, { trace });
    expect([...get(traced, 'relative_position_bucket').dataSync()]).toEqual([...get(io, 'caseA.relative_position_bucket').dataSync()]);
    check('caseA.position_bias', get(traced, 'position_bias'), get(io, 'caseA.position_bias'));
    check('caseA.block_out.0', get(traced, 'block_out.0'), get(io, 'caseA.block_out.0'));
    check('caseA.block_out.1', get(traced, 'block_out.1'), get(io, 'caseA.block_out.1'));
    check('caseA.last_hidden_state', out, get(io, 'caseA.last_hidden_state'));
  });

  it('caseB: inputs_embeds with padding (MIGE path)', () => {
    const embeds = get<TokenSequence>(io, 'caseB.inputs_embeds');
    const out = model.forward({ inputsEmbeds: embeds, attentionMask: get<TokenMask>(io, 'caseB.attention_mask') });
    check('caseB.last_hidden_state', out, get(io, 'caseB.last_hidden_state'));
    expect(embeds.isDisposed).toBe(false);
  });

  it('rejects bad input with MigeInputError', () => {
    const ids = tf.zeros([1, 4], 'int32') as tf.Tensor2D;
    expect(() => model.forward({})).toThrow(MigeInputError);
    expect(() => model.forward({ inputIds: tf.fill([1, 2], 5000, 'int32') as tf.Tensor2D })).toThrow(/outside the vocabulary/);
    expect(() => model.forward({ inputIds: ids, attentionMask: tf.ones([1, 5]) as TokenMask })).toThrow(MigeInputError);
    expect(() => model.forward({ inputsEmbeds: tf.zeros([1, 4, 63]) as TokenSequence })).toThrow(MigeInputError);
  });

  it('has gradients for every parameter', () => {
    const ids = tf.tensor2d([[3, 4, 5, 1]], [1, 4], 'int32');
    const { grads } = tf.variableGrads(() => tf.sum(model.forward({ inputIds: ids })) as tf.Scalar);
    const names = new Map(model.namedParameters().map(([n, p]) => [p.name, n]));
    expect(Object.keys(grads).map((k) => names.get(k)).sort()).toEqual([...names.values()].sort());
    tf.dispose(grads);
  });
});

describe('T5 state dict and loading', () => {
  beforeAll(async () => {
    await useBackend('cpu');
  });

  it('lists the tied embedding under both names, as the reference does', () => {
    const model = nn.withoutInit(() => new T5Encoder(T5_TINY));
    const keys = [...model.stateDict().keys()];
    const ref = SafetensorsReader.open(fixturePath('t5_encoder/weights.safetensors'));
    expect(new Set(keys)).toEqual(new Set(ref.keys()));
    ref.close();
    expect(keys.slice(0, 2)).toEqual(['shared.weight', 'encoder.embed_tokens.weight']);
    expect(model.stateDict().get('shared.weight')).toBe(model.stateDict().get('encoder.embed_tokens.weight'));
    expect(model.numParameters()).toBe(model.parameters().reduce((n, p) => n + p.size, 0));
    model.dispose();
  });

  it('accepts a checkpoint with only encoder.embed_tokens.weight', () => {
    const full = readFixture('t5_encoder/weights.safetensors');
    full.delete('shared.weight');
    const model = nn.withoutInit(() => new T5Encoder(T5_TINY));
    expect(model.loadStateDict(full)).toEqual({ missing: [], unexpected: [], mismatched: [] });
    expectClose(model.shared.weight, get(full, 'encoder.embed_tokens.weight'), 0);
    model.dispose();
  });

  it('loadT5Encoder reads single-file and sharded HF folders', () => {
    const io = readFixture('t5_encoder/io.safetensors');
    const hfConfig = { d_model: 64, d_kv: 16, d_ff: 128, num_layers: 2, num_heads: 4, vocab_size: 2100, relative_attention_num_buckets: 32, relative_attention_max_distance: 128, layer_norm_epsilon: 1e-6, feed_forward_proj: 'gated-gelu' };
    const dir = mkdtempSync(join(tmpdir(), 't5-'));
    try {
      writeFileSync(join(dir, 'config.json'), JSON.stringify(hfConfig));
      copyFileSync(fixturePath('t5_encoder/weights.safetensors'), join(dir, 'model.safetensors'));
      const input = { inputIds: get<tf.Tensor2D>(io, 'caseA.input_ids'), attentionMask: get<TokenMask>(io, 'caseA.attention_mask') };
      const a = loadT5Encoder(dir);
      expectClose(a.forward(input), get(io, 'caseA.last_hidden_state'), TOL);
      a.dispose();

      // Two shards plus an index, the way HF saves large models (the tied key stored once).
      rmSync(join(dir, 'model.safetensors'));
      const weights = readFixture('t5_encoder/weights.safetensors');
      weights.delete('encoder.embed_tokens.weight');
      const keys = [...weights.keys()];
      const half = Math.ceil(keys.length / 2);
      const shards = [keys.slice(0, half), keys.slice(half)];
      const weightMap: Record<string, string> = {};
      shards.forEach((ks, i) => {
        const name = `model-0000${i + 1}-of-00002.safetensors`;
        writeSafetensors(join(dir, name), Object.fromEntries(ks.map((k) => {
          const t = get(weights, k);
          return [k, { dtype: 'F32' as const, shape: t.shape, data: t.dataSync() as Float32Array }];
        })));
        for (const k of ks) weightMap[k] = name;
      });
      writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: weightMap }));
      const b = loadT5Encoder(dir);
      expectClose(b.forward(input), get(io, 'caseA.last_hidden_state'), TOL);
      b.dispose();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reports bad folders and configs as MigeInputError', () => {
    expect(() => loadT5Encoder('/nonexistent/t5')).toThrow(MigeInputError);
    expect(() => parseT5Config({ d_model: 64, feed_forward_proj: 'relu' })).toThrow(/feed_forward_proj/);
    expect(() => parseT5Config({ feed_forward_proj: 'gated-gelu', d_model: -1 })).toThrow(MigeInputError);
  });
});
