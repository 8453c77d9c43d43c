// Presets, config validation, the weight-cache switch and the analytic FLOP count.
import { MigeInputError, nn, SafetensorsReader, tf, type Latents, type TokenMask, type TokenSequence } from '@mige/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { createBackbone, derivedSizes, forwardFlops, MIGE_TINY, MIGE_XL_2, validateConfig } from '../src/index.js';
import { expectClose, fixturePath, get, readFixture, useBackend } from './helpers.js';

describe('presets and config', () => {
  beforeAll(() => useBackend('wasm'));

  it('MIGE_XL_2 is PixArt-α XL/2 at 512 px with 8 input and 8 output channels', () => {
    expect(MIGE_XL_2).toMatchObject({ type: 'pixart', depth: 28, hiddenSize: 1152, numHeads: 16, patchSize: 2, inChannels: 4, captionChannels: 4096, modelMaxLength: 256, inputSize: 64, leweiScale: 1, learnSigma: true });
    expect(derivedSizes(MIGE_XL_2)).toEqual({ embedChannels: 8, outChannels: 8, gridSize: 32, numPatches: 1024, headDim: 72, mlpHidden: 4608 });
    expect(Object.isFrozen(MIGE_XL_2)).toBe(true);
  });

  it('rejects inconsistent configs naming the field', () => {
    expect(() => validateConfig({ ...MIGE_TINY, hiddenSize: 66 })).toThrow(/hiddenSize 66 is not divisible by numHeads 4/);
    expect(() => validateConfig({ ...MIGE_TINY, inputSize: 9 })).toThrow(/inputSize 9 is not divisible by patchSize 2/);
    expect(() => createBackbone({ ...MIGE_TINY, depth: 0 })).toThrow(MigeInputError);
    expect(() => createBackbone({ ...MIGE_TINY, type: 'unet' as 'pixart' })).toThrow(/type is "unet"/);
  });

  it('initialises as the reference, reproducibly, and not at all inside nn.withoutInit', () => {
    const std = (t: tf.Tensor) => tf.tidy(() => Math.sqrt(tf.mean(tf.square(t)).dataSync()[0] as number));
    nn.manualSeed(3);
    const sd = createBackbone(MIGE_TINY).module.stateDict();
    expect(std(get(sd, 'final_layer.linear.weight'))).toBe(0);
    expect(std(get(sd, 'blocks.1.cross_attn.proj.weight'))).toBe(0);
    expect(std(get(sd, 'blocks.0.attn.qkv.bias'))).toBe(0);
    // xavier-uniform [192, 64]: std = √(6/256)/√3; N(0, 0.02) for the timestep and caption MLPs.
    expect(std(get(sd, 'blocks.0.attn.qkv.weight'))).toBeCloseTo(Math.sqrt(2 / 256), 2);
    expect(std(get(sd, 't_block.1.weight'))).toBeCloseTo(0.02, 2);
    expect(std(get(sd, 'y_embedder.y_embedding'))).toBeCloseTo(1 / Math.sqrt(32), 1);
    expect(std(get(sd, 'blocks.0.scale_shift_table'))).toBeCloseTo(1 / 8, 1);
    nn.manualSeed(3);
    const again = createBackbone(MIGE_TINY).module.stateDict();
    for (const [k, t] of sd) expectClose(get(again, k), t, 0, k);
    const empty = nn.withoutInit(() => createBackbone(MIGE_TINY)).module;
    for (const [k, p] of empty.namedParameters()) expect(std(p), k).toBe(0);
  });

  it('computes the same function without the transposed-weight cache (the XL setting)', () => {
    const io = readFixture('dit/io.safetensors');
    const backbone = nn.withoutInit(() => createBackbone(MIGE_TINY, { cacheTransposedWeights: false }));
    const reader = SafetensorsReader.open(fixturePath('dit/weights.safetensors'));
    backbone.module.loadStateDict(reader);
    reader.close();
    const y = tf.squeeze(get(io, 'y'), [1]) as TokenSequence;
    const before = tf.memory().numTensors;
    const { eps, variance } = backbone.forward({
      x: get<Latents>(io, 'x'),
      cond: get<Latents>(io, 'source'),
      t: get<tf.Tensor1D>(io, 'timestep'),
      y,
      mask: get<TokenMask>(io, 'mask'),
    });
    // Only ε and the variance half survive: transient weight transposes and activations are freed.
    expect(tf.memory().numTensors - before).toBe(2);
    expect(variance).toBeDefined();
    expectClose(eps, tf.slice(get(io, 'out'), [0, 0, 0, 0], [-1, 4, -1, -1]), 1e-4, 'eps');
  });

  it('counts forward FLOPs analytically (XL at 512 px ≈ 1.3 TFLOP per image)', () => {
    const xl = forwardFlops(MIGE_XL_2, 1);
    expect(xl).toBeGreaterThan(1.2e12);
    expect(xl).toBeLessThan(1.4e12);
    expect(forwardFlops(MIGE_XL_2, 3)).toBe(3 * xl);
  });
});
