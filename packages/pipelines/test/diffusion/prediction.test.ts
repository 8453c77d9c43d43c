import { Rng, tf, type Latents } from '@mige/core';
import { maxAbsDiff, TEST_BACKENDS, useBackend } from '@mige/core/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { epsFromOutput, iddpmTables, NoiseScheduleVP, type Prediction } from '../../src/diffusion/index.js';

describe.each(TEST_BACKENDS)('epsFromOutput on %s', (backend) => {
  beforeAll(() => useBackend(backend));

  it('recovers ε from v = α·ε − σ·x0 at the training timesteps, and passes ε models through', () => {
    const rng = new Rng('prediction');
    const x0 = rng.randn([2, 4, 3, 3]) as Latents, eps = rng.randn([2, 4, 3, 3]) as Latents;
    const ab = iddpmTables().alphasCumprod;
    for (const t of [0, 250, 700, 999]) {
      const a = Math.sqrt(ab[t] as number), s = Math.sqrt(1 - (ab[t] as number));
      const xt = tf.add(tf.mul(x0, a), tf.mul(eps, s)) as Latents;
      const v = tf.sub(tf.mul(eps, a), tf.mul(x0, s)) as Latents;
      // float32 α, σ and the x_t round trip: ~1e-6 relative.
      expect(maxAbsDiff(epsFromOutput('v', v, xt, t), eps), `t = ${t}`).toBeLessThanOrEqual(2e-5);
      expect(epsFromOutput('epsilon', eps, xt, t)).toBe(eps);
    }
    expect(() => epsFromOutput('x0' as Prediction, eps, x0, 3)).toThrow(/epsFromOutput: prediction must be 'epsilon' or 'v', got "x0"/);
  });

  it('between steps (DPM-Solver\'s fractional times) uses the discrete schedule\'s interpolated α and σ', () => {
    const vp = new NoiseScheduleVP();
    const v = tf.ones([1, 1, 1, 1]) as Latents, x = tf.fill([1, 1, 1, 1], 2) as Latents;
    for (const modelTime of [12.5, 480.25, 998.9]) {
      const t = modelTime / 1000 + 1 / vp.totalN;
      const want = vp.marginalAlpha(t) + 2 * vp.marginalStd(t);
      expect(epsFromOutput('v', v, x, modelTime).dataSync()[0]).toBeCloseTo(want, 6);
    }
  });
});
