// The `dpm_solver` fixture (fixtures/reference/README.md §8): MIGE's DPMS sampler
// (DPM-Solver++ 2M, time_uniform, lower_order_final) with the toy noise model, through
// guidedNoiseModel + createSampler, from the fixture's x_T.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { tf } from '@mige/core';
import { createSampler, guidedNoiseModel, type DpmSolverSampler, type GuidanceType } from '../../src/diffusion/index.js';
import { get, maxAbsDiff, readFixture, TEST_BACKENDS, toyNetwork, useBackend } from './helpers.js';

const RUNS = ['subject.steps5', 'subject.steps10', 'subject.steps20', 'edit.steps10', 'uncond.steps10'] as const;
const report: string[] = [];

describe.each(TEST_BACKENDS)('DPM-Solver++ parity on %s', (backend) => {
  let io: Map<string, tf.Tensor>;

  beforeAll(async () => {
    await useBackend(backend);
    io = readFixture('dpm_solver/io.safetensors');
  });

  it.each(RUNS)('%s: sample, time grid and model times', async (run) => {
    const [kind, stepsPart] = run.split('.') as [GuidanceType, string];
    const steps = Number(stepsPart.slice('steps'.length));
    const xT = get<tf.Tensor4D>(io, 'x_T');
    const batch = xT.shape[0];
    const calls: { t: number; rows: number }[] = [];
    const model = guidedNoiseModel(kind, { y: 5, s: 1.5 }, (x, t) => {
      calls.push({ t, rows: x.shape[0] });
      return toyNetwork(batch)(x, t);
    });
    const sampler = createSampler({ type: 'dpm-solver' }) as DpmSolverSampler;
    const out = await sampler.sample(model, xT, { steps });

    const dSample = maxAbsDiff(out, get(io, `${run}.sample`));
    const dGrid = maxAbsDiff(sampler.timesteps(steps), get(io, `${run}.timesteps`));
    const dTimes = maxAbsDiff(calls.map((c) => c.t), get(io, `${run}.model_t_input`));
    report.push(`${backend} ${run}: sample ${dSample.toExponential(2)}, timesteps ${dGrid.toExponential(2)}, model_t_input ${dTimes.toExponential(2)}`);
    expect(out.shape).toEqual(xT.shape);
    expect(dSample).toBeLessThanOrEqual(1e-4);
    expect(dGrid).toBeLessThanOrEqual(1e-6);
    expect(dTimes).toBeLessThanOrEqual(1e-4);
    // One batched network call per step (NFE = steps), k branches per call.
    const k = { subject: 2, edit: 3, uncond: 1 }[kind];
    expect(calls.map((c) => c.rows)).toEqual(new Array(steps).fill(k * batch));
    expect(sampler.modelTimes(steps)).toEqual(calls.map((c) => c.t));
    out.dispose();
  });
});

describe('DPM-Solver step orders (lower_order_final)', () => {
  it('follows the reference: min(order, i + 1), and min(…, steps − i) only for steps < 10', () => {
    const orders = (order: 1 | 2 | 3, steps: number, lowerOrderFinal = true) => {
      const s = createSampler({ type: 'dpm-solver', order, lowerOrderFinal }) as DpmSolverSampler;
      return Array.from({ length: steps }, (_, i) => s.stepOrder(i, steps));
    };
    expect(orders(2, 5)).toEqual([1, 2, 2, 2, 1]);
    expect(orders(2, 10)).toEqual([1, 2, 2, 2, 2, 2, 2, 2, 2, 2]);
    expect(orders(3, 6)).toEqual([1, 2, 3, 3, 2, 1]);
    expect(orders(3, 6, false)).toEqual([1, 2, 3, 3, 3, 3]);
    expect(orders(3, 2)).toEqual([1, 1]);
    expect(orders(1, 3)).toEqual([1, 1, 1]);
  });
});

afterAll(() => {
  if (report.length) console.log(`dpm_solver max abs diffs:\n  ${report.join('\n  ')}`);
});
