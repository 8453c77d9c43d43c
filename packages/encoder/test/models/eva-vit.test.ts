// EVA ViT + ln_vision against the `eva_vit` golden fixture (fixtures/reference/README.md §3).
import { MigeInputError, nn, SafetensorsReader, tf, type ImageBatch } from '@mige/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVA_VIT_G, EVA_VIT_TINY, evaMlpHidden, VisionEncoder } from '../../src/models/index.js';
import { expectClose, fixturePath, get, parityReport, printParityReport, readFixture, TEST_BACKENDS, tracer, useBackend } from './helpers.js';

const TOL = 1e-4;

describe.each(TEST_BACKENDS)('EVA ViT parity on %s', (backend) => {
  let io: Map<string, tf.Tensor>;
  let model: VisionEncoder;
  const check = (label: string, a: tf.Tensor, e: tf.Tensor) => parityReport.set(`eva ${backend} ${label}`, expectClose(a, e, TOL, label));

  beforeAll(async () => {
    await useBackend(backend);
    io = readFixture('eva_vit/io.safetensors');
    model = nn.withoutInit(() => new VisionEncoder(EVA_VIT_TINY));
    const reader = SafetensorsReader.open(fixturePath('eva_vit/weights.safetensors'));
    try {
      expect(model.loadStateDict(reader)).toEqual({ missing: [], unexpected: [], mismatched: [] });
    } finally {
      reader.close();
    }
  });
  afterAll(() => {
    printParityReport();
    model.dispose();
  });

  it('matches patch_embed_out, every block, vit_out and ln_vision_out', () => {
    const { traced, trace } = tracer();
    const out = model.forward(get<ImageBatch>(io, 'images'), { trace });
    for (const name of ['patch_embed_out', 'block_out.0', 'block_out.1', 'vit_out', 'ln_vision_out']) check(name, get(traced, name), get(io, name));
    check('output', out, get(io, 'ln_vision_out'));
  });

  it('is frozen except ln_vision, and rejects wrong image sizes', () => {
    expect(model.trainableParameters().map(([n]) => n)).toEqual(['ln_vision.weight', 'ln_vision.bias']);
    expect(model.visualEncoder.isTraining).toBe(false);
    expect(() => model.forward(tf.zeros([1, 3, 42, 42]) as ImageBatch)).toThrow(MigeInputError);
  });
});

describe('EVA ViT-g preset', () => {
  it('has the reference sizes', () => {
    expect(evaMlpHidden(EVA_VIT_G)).toBe(6144);
    expect(evaMlpHidden(EVA_VIT_TINY)).toBe(209);
  });
});
