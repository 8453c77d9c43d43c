// Samplers awaiting an async noise model (what the ONNX engine gives them): the same samples bit
// for bit as the synchronous model, for every sampler and both guidance batch layouts; no
// leaked tensor; an abort still lands before the next model call.
import { MigeAbortError, Rng, tf, type Latents } from '@mige/core';
import { maxAbsDiff, TEST_BACKENDS, useBackend } from '@mige/core/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { createSampler, guidedNoiseModel, type AsyncNoiseModel, type GuidanceType, type SamplerConfig } from '../../src/diffusion/index.js';

const CONFIGS: SamplerConfig[] = [{ type: 'dpm-solver' }, { type: 'dpm-solver', order: 3 }, { type: 'ddim', eta: 0.5 }, { type: 'ddpm' }];

/** A network ε = tanh(x·w + t/1000) for the k·B rows; its intermediates are what a tidy must free. */
function network(w: tf.Tensor): (x: Latents, t: number) => Latents {
  return (x, t) => tf.tidy(() => tf.tanh(tf.add(tf.mul(x, w), t / 1000)) as Latents);
}

/** The same network computed after an await, as ORT does: it owns its intermediates. */
function asyncNetwork(w: tf.Tensor): (x: Latents, t: number) => Promise<Latents> {
  const sync = network(w);
  return async (x, t) => {
    await new Promise((r) => setImmediate(r));
    return sync(x, t);
  };
}

describe.each(TEST_BACKENDS)('samplers with async noise models (%s)', (backend) => {
  let xT: Latents;
  let w: tf.Tensor;
  beforeAll(async () => {
    await useBackend(backend);
    xT = new Rng(1).randn([2, 4, 3, 3]) as Latents;
    w = new Rng(2).randn([1, 4, 3, 3]);
  });

  it.each(CONFIGS.flatMap((c) => (['subject', 'edit', 'uncond'] as GuidanceType[]).map((g) => [JSON.stringify(c), g, c] as const)))('%s, %s guidance: equal to the sync model', async (_, guidance, config) => {
    const scales = { y: 4.5, s: 1.5 };
    const sampler = createSampler(config);
    const rngs = () => [new Rng(7), new Rng(8)];
    const sync = await sampler.sample(guidedNoiseModel(guidance, scales, network(w)), xT, { steps: 6, rng: rngs() });
    const before = tf.memory().numTensors;
    const rowsSeen: number[] = [];
    const inner = asyncNetwork(w);
    const model: AsyncNoiseModel = guidedNoiseModel(guidance, scales, (x, t) => {
      rowsSeen.push(x.shape[0]);
      return inner(x, t);
    });
    const viaAsync = await sampler.sample(model, xT, { steps: 6, rng: rngs() });
    expect(tf.memory().numTensors).toBe(before + 1);
    expect(rowsSeen).toEqual(new Array(6).fill(2 * { subject: 2, edit: 3, uncond: 1 }[guidance]));
    expect(maxAbsDiff(viaAsync, sync)).toBe(0);
    expect(maxAbsDiff(sync, xT)).toBeGreaterThan(0.1);
    tf.dispose([sync, viaAsync]);
  });

  it('stops before the next async call when aborted, leaking nothing', async () => {
    const controller = new AbortController();
    let calls = 0;
    const inner = asyncNetwork(w);
    const model = guidedNoiseModel('edit', { y: 5, s: 1 }, (x, t) => {
      calls++;
      return inner(x, t);
    });
    const before = tf.memory().numTensors;
    const run = createSampler({ type: 'dpm-solver' }).sample(model, xT, { steps: 10, signal: controller.signal, onStep: (s) => {
      if (s.index === 2) controller.abort();
    } });
    await expect(run).rejects.toBeInstanceOf(MigeAbortError);
    expect(calls).toBe(3);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a rejected async call fails the sample and frees its tensors', async () => {
    const before = tf.memory().numTensors;
    const model = guidedNoiseModel('subject', { y: 5, s: 1 }, () => Promise.reject(new Error('device lost')));
    await expect(createSampler({ type: 'ddim' }).sample(model, xT, { steps: 3 })).rejects.toThrow('device lost');
    expect(tf.memory().numTensors).toBe(before);
  });
});
