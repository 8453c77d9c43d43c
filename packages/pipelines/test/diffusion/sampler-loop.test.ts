// The sampling loop's contract: cancellation, progress callbacks, tensor ownership and input
// validation, for every sampler type.
import { beforeAll, describe, expect, it } from 'vitest';
import { MigeAbortError, MigeInputError, Rng, tf, type Latents } from '@mige/core';
import { createSampler, type NoiseModel, type SamplerConfig, type SamplerStep } from '../../src/diffusion/index.js';
import { fixedNormal, gaussianDataModel, maxAbsDiff, useBackend } from './helpers.js';

const CONFIGS: SamplerConfig[] = [{ type: 'dpm-solver' }, { type: 'dpm-solver', order: 3 }, { type: 'ddim' }, { type: 'ddpm' }];
const name = (c: SamplerConfig) => JSON.stringify(c);

/** Runs `fn` and returns the error it rejects with (fails if it resolves). */
async function rejection(fn: () => Promise<unknown>): Promise<unknown> {
  try {
    await fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection');
}

describe('sampler loop', () => {
  let xT: Latents;
  let model: NoiseModel;

  beforeAll(async () => {
    await useBackend('cpu');
    xT = fixedNormal([2, 4, 3, 5], 1);
    model = gaussianDataModel(tf.mul(fixedNormal([2, 4, 3, 5], 2), 0.5) as Latents, 0.3);
  });

  it.each(CONFIGS.map((c) => [name(c), c] as const))('%s: onStep per step, shapes, and no leaked tensor', async (_, config) => {
    const sampler = createSampler(config);
    const steps = 7;
    const seen: Omit<SamplerStep, 'x' | 'denoised'>[] = [];
    const xTBefore = xT.dataSync().slice();
    const before = tf.memory().numTensors;
    const out = await sampler.sample(model, xT, {
      steps,
      rng: new Rng(4),
      onStep: ({ x, denoised, ...rest }) => {
        expect(x.shape).toEqual(xT.shape);
        expect(denoised.shape).toEqual(xT.shape);
        expect(x.isDisposed || denoised.isDisposed).toBe(false);
        seen.push(rest);
      },
    });
    expect(tf.memory().numTensors).toBe(before + 1);
    expect(out.shape).toEqual(xT.shape);
    expect(xT.isDisposed).toBe(false);
    expect(maxAbsDiff(xT, xTBefore)).toBe(0);
    const times = sampler.modelTimes(steps);
    expect(times).toHaveLength(steps);
    expect(seen).toEqual(times.map((modelTime, index) => ({ index, total: steps, modelTime })));
    out.dispose();
  });

  it.each(CONFIGS.map((c) => [name(c), c] as const))('%s: aborting in onStep at step 2 stops before the next model call', async (_, config) => {
    const controller = new AbortController();
    let calls = 0;
    const counting: NoiseModel = (x, t) => {
      calls++;
      return model(x, t);
    };
    const before = tf.memory().numTensors;
    const err = await rejection(() => createSampler(config).sample(counting, xT, {
      steps: 10,
      rng: new Rng(1),
      signal: controller.signal,
      onStep: ({ index }) => {
        if (index === 2) controller.abort();
      },
    }));
    expect(err).toBeInstanceOf(MigeAbortError);
    expect((err as MigeAbortError).step).toBe(3);
    expect(calls).toBe(3);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('an abort from a timer stops a slow sampling run within one step (the loop yields)', async () => {
    const controller = new AbortController();
    let calls = 0;
    let callsAtAbort = -1;
    const slow: NoiseModel = (x, t) => {
      calls++;
      const until = Date.now() + 15;
      while (Date.now() < until) { /* a busy network call */ }
      return model(x, t);
    };
    controller.signal.addEventListener('abort', () => (callsAtAbort = calls));
    setTimeout(() => controller.abort(), 60);
    const err = await rejection(() => createSampler({ type: 'dpm-solver' }).sample(slow, xT, { steps: 200, signal: controller.signal }));
    expect(err).toBeInstanceOf(MigeAbortError);
    expect(callsAtAbort).toBeGreaterThan(0);
    expect(calls - callsAtAbort).toBeLessThanOrEqual(1);
    expect(calls).toBeLessThan(50);
  });

  it('an already aborted signal makes no model call', async () => {
    let calls = 0;
    const err = await rejection(() => createSampler({ type: 'ddim' }).sample(() => {
      calls++;
      return xT;
    }, xT, { steps: 5, signal: AbortSignal.abort() }));
    expect(err).toBeInstanceOf(MigeAbortError);
    expect(calls).toBe(0);
  });

  it('disposes everything when the model throws mid-run', async () => {
    let calls = 0;
    const failing: NoiseModel = (x, t) => {
      if (++calls === 4) throw new Error('network failed');
      return model(x, t);
    };
    const before = tf.memory().numTensors;
    await expect(createSampler({ type: 'dpm-solver', order: 3 }).sample(failing, xT, { steps: 8 })).rejects.toThrow('network failed');
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('validation', () => {
  beforeAll(async () => {
    await useBackend('cpu');
  });

  const bad = (config: unknown, where: RegExp) => {
    const fn = () => createSampler(config as SamplerConfig);
    expect(fn).toThrow(MigeInputError);
    expect(fn).toThrow(where);
  };

  it('rejects bad sampler configs, naming the field', () => {
    bad({ type: 'dpm-solver', order: 4 }, /SamplerConfig\.order: order must be 1, 2 or 3, got 4/);
    bad({ type: 'euler' }, /SamplerConfig\.type: unknown sampler type "euler"/);
    bad({}, /SamplerConfig\.type/);
    bad({ type: 'dpm-solver', skipType: 'karras' }, /SamplerConfig\.skipType/);
    bad({ type: 'dpm-solver', lowerOrderFinal: 'yes' }, /SamplerConfig\.lowerOrderFinal/);
    bad({ type: 'ddim', eta: -0.5 }, /SamplerConfig\.eta/);
    bad({ type: 'ddim', order: 2 }, /SamplerConfig\.order: 'order' is not an option of the ddim sampler/);
    expect(createSampler({ type: 'dpm-solver' }).config).toEqual({ type: 'dpm-solver', order: 2, skipType: 'time_uniform', lowerOrderFinal: true, maxTimestep: 999 });
    expect(createSampler({ type: 'ddim' }).config).toEqual({ type: 'ddim', eta: 0 });
  });

  it('rejects bad steps, inputs, generators and model outputs', async () => {
    const x = tf.zeros([1, 4, 2, 2]) as Latents;
    const echo: NoiseModel = (v) => tf.zerosLike(v);
    const dpm = createSampler({ type: 'dpm-solver' });
    for (const steps of [0, -1, 2.5, 1001, Number.NaN]) {
      await expect(dpm.sample(echo, x, { steps })).rejects.toThrow(/dpm-solver\.sample\.steps: steps must be an integer in \[1, 1000\]/);
    }
    expect(() => dpm.modelTimes(0)).toThrow(/dpm-solver\.modelTimes\.steps/);
    expect(() => createSampler({ type: 'ddpm' }).modelTimes(1001)).toThrow(/ddpm\.modelTimes\.steps/);
    for (const maxTimestep of [0, 1000, 2.5, Number.NaN]) {
      expect(() => createSampler({ type: 'ddpm', maxTimestep })).toThrow(/SamplerConfig\.maxTimestep: maxTimestep must be an integer in \[1, 999\]/);
    }
    const late = createSampler({ type: 'ddpm', maxTimestep: 700 }).modelTimes(100);
    expect([late.length, late[0], late.at(-1)]).toEqual([100, 700, 0]);
    for (const maxTimestep of [0, 1000, 2.5, '499']) {
      expect(() => createSampler({ type: 'dpm-solver', maxTimestep } as SamplerConfig)).toThrow(/SamplerConfig\.maxTimestep: maxTimestep must be an integer in \[1, 999\]/);
    }
    // Model time (t − 1/N)·N: the first call at the start timestep itself.
    const dpmLate = createSampler({ type: 'dpm-solver', maxTimestep: 499 }).modelTimes(20);
    expect(dpmLate).toHaveLength(20);
    expect(dpmLate[0]).toBeCloseTo(499, 3);
    expect(createSampler({ type: 'dpm-solver' }).modelTimes(20)[0]).toBeCloseTo(999, 3);
    await expect(dpm.sample(echo, tf.zeros([4, 2, 2]) as unknown as Latents, { steps: 2 })).rejects.toThrow(/xT/);
    await expect(createSampler({ type: 'ddpm' }).sample(echo, x, { steps: 2 })).rejects.toThrow(/ddpm\.sample\.rng: .*needs options\.rng/);
    await expect(createSampler({ type: 'ddim', eta: 0.5 }).sample(echo, x, { steps: 2, rng: [new Rng(1), new Rng(2)] })).rejects.toThrow(/2 generators for a batch of 1/);
    await expect(dpm.sample(() => tf.zeros([1, 4, 2, 3]) as Latents, x, { steps: 2 })).rejects.toThrow(/NoiseModel: the model returned \[1, 4, 2, 3\]/);
    // steps = 1 with the default order 2 takes one first-order step (the reference would assert).
    const one = await dpm.sample(echo, x, { steps: 1 });
    expect(one.shape).toEqual([1, 4, 2, 2]);
    tf.dispose([x, one]);
  });
});
