// The composed encoder on a batch that mixes 0, 1 and 4 images per item, with random weights:
// shapes, finite values, and the ViT running once, on the real images only.
import { tf, type EncoderInput, type FeatureFusion, type FusionItem, type Latents, type PatchEmbedder, type TokenSequence } from '@mige/core';
import { fixturePath, TEST_BACKENDS, useBackend } from '@mige/core/testing';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { InstructionBatchError, MIGE_ENCODER_TINY, MigeInstructionEncoder, T5Tokenizer } from '../../src/index.js';

/** The "wo_VAE feature" fusion: tokens pass unchanged (fusion's NoFusion, which tests may not import). */
class IdentityFusion implements FeatureFusion {
  readonly type = 'none';
  calls: number[] = [];
  fuse(queryTokens: TokenSequence, _latents: Latents, _embedder: PatchEmbedder): TokenSequence {
    return tf.clone(queryTokens);
  }
  fuseBatch(items: readonly FusionItem[], embedder: PatchEmbedder): TokenSequence[] {
    this.calls.push(...items.map((it) => it.tokens.shape[0]));
    return items.map((it) => this.fuse(it.tokens, it.latents, embedder));
  }
}

const embedder: PatchEmbedder = { patchSize: 2, inChannels: 8, hiddenSize: 64, embed: () => tf.zeros([1, 1, 64]) };

function item(text: string, n: number): EncoderInput {
  return { text, images: tf.randomNormal([n, 3, 28, 28], 0, 1, 'float32', n + 1) as tf.Tensor4D, latents: tf.randomNormal([n, 4, 8, 8]) as Latents };
}

describe.each(TEST_BACKENDS)('MigeInstructionEncoder on mixed image counts (%s)', (backend) => {
  let encoder: MigeInstructionEncoder;
  beforeAll(async () => {
    await useBackend(backend);
    const tokenizer = T5Tokenizer.fromTokenizerJson(fixturePath('t5_tokenizer/tokenizer.json'));
    encoder = new MigeInstructionEncoder(tokenizer, { ...MIGE_ENCODER_TINY, maxLength: 64 });
  });

  it('encodes items with 0, 1 and 4 images in one batch', () => {
    const batch = [item('a cat on the grass', 0), item('a dog <imagehere> at the beach', 1), item('<imagehere> <imagehere> and <imagehere> with <imagehere>', 4)];
    const vit = vi.spyOn(encoder.module.vision, 'forward');
    const fusion = new IdentityFusion();
    const { y, mask, warnings } = encoder.encode(batch, { fusion, patchEmbedder: embedder });
    expect(vit).toHaveBeenCalledTimes(1);
    expect((vit.mock.calls[0]?.[0] as tf.Tensor).shape[0]).toBe(5);
    expect(fusion.calls).toEqual([0, 1, 4]);
    expect(y.shape).toEqual([3, 64, 64]);
    expect(mask.shape).toEqual([3, 64]);
    expect(warnings).toEqual([]);
    expect(tf.all(tf.isFinite(y)).dataSync()[0]).toBe(1);
    // 4 × 8 image rows + text + EOS for the third item; the first has no image rows at all.
    const lengths = tf.sum(mask, 1).dataSync();
    expect(lengths[2]).toBeGreaterThan(32);
    vit.mockRestore();
  });

  it('leaves no tensors behind but y and the mask', () => {
    const batch = [item('a dog <imagehere>', 1), item('a cat', 0)];
    const opts = { fusion: new IdentityFusion(), patchEmbedder: embedder };
    const before = tf.memory().numTensors;
    const { y, mask } = encoder.encode(batch, opts);
    expect(tf.memory().numTensors).toBe(before + 2);
    y.dispose();
    mask.dispose();
  });

  it('never runs the ViT for a batch without images', () => {
    const vit = vi.spyOn(encoder.module.vision, 'forward');
    const { y } = encoder.encode([item('a cat', 0), item('two dogs', 0)], { fusion: new IdentityFusion(), patchEmbedder: embedder });
    expect(vit).not.toHaveBeenCalled();
    expect(y.shape).toEqual([2, 64, 64]);
    vit.mockRestore();
  });

  it('skips image slots that truncation cuts off entirely, with a warning', () => {
    const long = `<imagehere> ${'a dog '.repeat(40)}<imagehere> end`;
    const vit = vi.spyOn(encoder.module.vision, 'forward');
    const fusion = new IdentityFusion();
    const { y, mask, warnings } = encoder.encode([item(long, 2)], { fusion, patchEmbedder: embedder });
    expect((vit.mock.calls[0]?.[0] as tf.Tensor).shape[0]).toBe(1);
    expect(fusion.calls).toEqual([1]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^batch\[0\]: \d+ tokens/);
    expect(Array.from(mask.dataSync()).every((m) => m === 1)).toBe(true);
    expect(y.shape).toEqual([1, 64, 64]);
    vit.mockRestore();
  });

  it('reports every bad item at once', () => {
    const bad = [item('no placeholder', 1), item('fine', 0), { ...item('<imagehere>', 1), latents: tf.zeros([2, 4, 8, 8]) as Latents }];
    expect(() => encoder.encode(bad, { fusion: new IdentityFusion(), patchEmbedder: embedder })).toThrow(InstructionBatchError);
    try {
      encoder.encode(bad, { fusion: new IdentityFusion(), patchEmbedder: embedder });
    } catch (e) {
      expect((e as InstructionBatchError).problems.map((p) => p.index)).toEqual([0, 2]);
    }
  });

  it('lists MIGE checkpoint names in its state dict', () => {
    const keys = [...encoder.module.stateDict().keys()];
    for (const prefix of ['visual_encoder.', 'ln_vision.', 'Qformer.bert.', 't5_proj.', 't5_model.shared.', 't5_model.encoder.']) {
      expect(keys.some((k) => k.startsWith(prefix))).toBe(true);
    }
    expect(keys).toContain('query_tokens');
  });
});
