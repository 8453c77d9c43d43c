// The IDDPM hybrid loss against the `iddpm_loss` fixture (fixtures/reference/README.md §9):
// IDDPM('1000', learn_sigma=True, pred_sigma=True, snr=False).training_losses with a fixed model
// output, cases A (t = [0, 637]) and B (t = [999, 1]); plus its gradients.
import { MigeInputError, tf, type Latents } from '@mige/core';
import { readFixture, TEST_BACKENDS, useBackend } from '@mige/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { iddpmTables } from '../../src/diffusion/index.js';
import {
  hybridLoss,
  pMeanVariance,
  qPosteriorMeanVariance,
  qSample,
  vbTermsBpd,
  type HybridLossInput,
  SNR_X0_BELOW,
} from '../../src/loss/index.js';

/**
 * Elementwise |a − b| / max(1, |b|): absolute below 1, relative above, since pred_xstart reaches
 * 569 at t = 999 (sqrt(1/ᾱ) ≈ 157 amplifies float32 rounding) while the losses are O(1).
 */
const TOL = 1e-5;
const report: string[] = [];

function relishDiff(actual: tf.Tensor, expected: tf.Tensor): number {
  expect(actual.shape).toEqual(expected.shape);
  const a = actual.dataSync();
  const b = expected.dataSync();
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs((a[i] as number) - (b[i] as number)) / Math.max(1, Math.abs(b[i] as number));
    if (!Number.isFinite(d)) return NaN; // no later element may hide a NaN or an infinity
    if (d > m) m = d;
  }
  return m;
}

function get<T extends tf.Tensor = Latents>(io: Map<string, tf.Tensor>, name: string): T {
  const t = io.get(name);
  if (!t) throw new Error(`fixture has no tensor ${name}`);
  return t as T;
}

/** The fixture's model output [2, 8, 4, 4] split into ε (channels 0–3) and v (4–7). */
function caseInput(io: Map<string, tf.Tensor>, c: string): HybridLossInput {
  const out = get(io, `${c}.model_output`);
  const [eps, variance] = tf.split(out, 2, 1) as [Latents, Latents];
  const x0 = get(io, `${c}.x_start`);
  const noise = get(io, `${c}.noise`);
  const t = Array.from(get<tf.Tensor1D>(io, `${c}.t`).dataSync());
  return { x0, t, noise, xT: qSample(x0, t, noise), eps, variance };
}

describe('IDDPM tables', () => {
  // Values printed by numpy for the reference's construction (linspace, cumprod, respacing).
  it('match numpy at t = 0, 1, 637, 999', () => {
    const tb = iddpmTables();
    const at = (a: Float64Array, i: number): number => a[i] as number;
    const close = (a: number, b: number): void => expect(Math.abs(a - b)).toBeLessThanOrEqual(1e-14 * Math.max(1, Math.abs(b)));
    close(at(tb.betas, 0), 9.999999999998899e-5);
    close(at(tb.betas, 999), 0.020000000000000018);
    close(at(tb.alphasCumprod, 1), 0.9997800920720721);
    close(at(tb.alphasCumprod, 999), 4.035829765375676e-5);
    close(at(tb.posteriorLogVarianceClipped, 0), -9.81672513529595);
    close(at(tb.posteriorLogVarianceClipped, 637), -4.359382652925811);
    close(at(tb.posteriorMeanCoef1, 1), 0.5452914995101377);
    close(at(tb.posteriorMeanCoef2, 637), 0.9933743714377284);
    expect(at(tb.posteriorMeanCoef2, 0)).toBe(0);
    close(at(tb.sqrtRecipm1AlphasCumprod, 999), 157.40728081040757);
  });
});

describe.each(TEST_BACKENDS)('IDDPM hybrid loss on %s', (backend) => {
  let io: Map<string, tf.Tensor>;

  beforeAll(async () => {
    await useBackend(backend);
    io = readFixture('iddpm_loss/io.safetensors');
  });

  it.each(['caseA', 'caseB'])('%s matches every stored term', (c) => {
    const input = caseInput(io, c);
    const truth = qPosteriorMeanVariance(input.x0, input.xT, input.t);
    const model = pMeanVariance(input.eps, input.variance, input.xT, input.t);
    const loss = hybridLoss(input);
    const pairs: [string, tf.Tensor][] = [
      ['x_t', input.xT],
      ['true_mean', truth.mean],
      ['true_log_variance_clipped', truth.logVarianceClipped],
      ['model_mean', model.mean],
      ['model_log_variance', model.logVariance],
      ['pred_xstart', model.predXstart],
      ['mse', loss.mse],
      ['vb', loss.vb],
      ['loss', loss.loss],
    ];
    for (const [name, actual] of pairs) {
      const d = relishDiff(actual, get(io, `${c}.${name}`));
      report.push(`${backend} ${c}.${name}: ${d.toExponential(2)}`);
      expect(d, `${c}.${name}`).toBeLessThanOrEqual(TOL);
    }
  });

  it.each(['caseA', 'caseB'])('%s with snr: x0 error below t = 250, the stored ε mse above (PixArt\'s snr=True)', (c) => {
    const input = caseInput(io, c);
    const snr = hybridLoss(input, undefined, { mse: 'snr' });
    const mse = get(io, `${c}.mse`).dataSync();
    const x0Error = tf.mean(tf.square(tf.sub(input.x0, get(io, `${c}.pred_xstart`))), [1, 2, 3]).dataSync();
    const got = snr.mse.dataSync();
    const t = input.t as number[];
    expect(t.some((s) => s < SNR_X0_BELOW) && t.some((s) => s >= SNR_X0_BELOW)).toBe(true);
    t.forEach((s, i) => {
      const want = s < SNR_X0_BELOW ? (x0Error[i] as number) : (mse[i] as number);
      expect(Math.abs((got[i] as number) - want), `item ${i} (t = ${s})`).toBeLessThanOrEqual(TOL * Math.max(1, want));
    });
    // The vb term is unchanged, and the low-t item's term really differs from the ε mse.
    expect(relishDiff(snr.vb, get(io, `${c}.vb`))).toBeLessThanOrEqual(TOL);
    const low = t.findIndex((s) => s < SNR_X0_BELOW);
    expect(Math.abs((got[low] as number) - (mse[low] as number))).toBeGreaterThan(1e-3);
  });

  it.each(['caseA', 'caseB'])('%s with the v loss: the stored ε mse over ᾱ_t, the x0 error times SNR + 1', (c) => {
    const input = caseInput(io, c);
    const v = hybridLoss(input, undefined, { mse: 'v' }).mse.dataSync();
    const mse = get(io, `${c}.mse`).dataSync();
    const x0Error = tf.mean(tf.square(tf.sub(input.x0, get(io, `${c}.pred_xstart`))), [1, 2, 3]).dataSync();
    const ab = iddpmTables().alphasCumprod;
    (input.t as number[]).forEach((s, i) => {
      const a = ab[s] as number;
      const want = (mse[i] as number) / a;
      expect(Math.abs((v[i] as number) - want), `item ${i} (t = ${s})`).toBeLessThanOrEqual(TOL * Math.max(1, want));
      // (v − v̂)² = (x0 − x̂0)²·(SNR + 1): the same number from the stored pred_xstart.
      if (s > 0) expect(Math.abs((v[i] as number) - (x0Error[i] as number) * (a / (1 - a) + 1))).toBeLessThanOrEqual(1e-3 * Math.max(1, want));
    });
    // Capped at 2, the t = 0 / 1 items keep their weight (1/ᾱ ≈ 1) and the others get 2.
    const capped = hybridLoss(input, undefined, { mse: 'v', maxWeight: 2 }).mse.dataSync();
    (input.t as number[]).forEach((s, i) => expect(capped[i]).toBeCloseTo(Math.min(2, 1 / (ab[s] as number)) * (mse[i] as number), 5));
    expect(() => hybridLoss(input, undefined, { mse: 'x0' as 'v' })).toThrow(/hybridLoss\.mse: mse must be 'eps', 'snr' or 'v', got "x0"/);
  });

  it('d(loss)/d(variance) matches central finite differences, on the t = 0 and t > 0 items', () => {
    // caseA's data at t = [0, 5]: near t = 0 log β and the clipped posterior log variance differ
    // most (at t = 637 they agree to 3 digits, so v barely matters there).
    const base = caseInput(io, 'caseA');
    const input = { ...base, t: [0, 5], xT: qSample(base.x0, [0, 5], base.noise) };
    // ×64 (the C·h·w of the mean) makes the per-element gradients O(0.1–1).
    const f = (v: tf.Tensor): tf.Scalar => tf.mul(tf.sum(hybridLoss({ ...input, variance: v as Latents }).loss), 64);
    const grad = tf.grad(f)(input.variance).dataSync();
    const v0 = input.variance.dataSync();
    const h = 0.05; // big enough that float32 rounding of the summed loss (~1e-5) stays small
    // Flat indices in item 0 (t = 0, decoder NLL) and item 1 (t = 637, KL).
    for (const i of [0, 5, 17, 40, 64, 70, 99, 127]) {
      const shifted = (dv: number): number => {
        const v = Float32Array.from(v0);
        v[i] = (v[i] as number) + dv;
        return f(tf.tensor(v, input.variance.shape)).dataSync()[0] as number;
      };
      const fd = (shifted(h) - shifted(-h)) / (2 * h);
      const g = grad[i] as number;
      expect(Math.abs(g), `grad[${i}] is not trivially zero`).toBeGreaterThan(1e-3);
      expect(Math.abs(g - fd), `grad[${i}] = ${g} vs finite difference ${fd}`).toBeLessThanOrEqual(1e-3 + 1e-2 * Math.abs(fd));
    }
  });

  it('vb does not train ε (stop-gradient) while mse does', () => {
    const input = caseInput(io, 'caseB');
    const dVb = tf.grad((e: tf.Tensor) => tf.sum(hybridLoss({ ...input, eps: e as Latents }).vb))(input.eps);
    expect(tf.max(tf.abs(dVb)).dataSync()[0]).toBe(0);
    // Without the stop-gradient the same vb term does depend on ε, so the check above can fail.
    const dRaw = tf.grad((e: tf.Tensor) => tf.sum(vbTermsBpd(input.x0, input.xT, input.t, e as Latents, input.variance)))(input.eps);
    expect(tf.max(tf.abs(dRaw)).dataSync()[0]).toBeGreaterThan(1e-3);
    // d(loss)/dε is the mse gradient alone: −2·(noise − ε)/64.
    const dLoss = tf.grad((e: tf.Tensor) => tf.sum(hybridLoss({ ...input, eps: e as Latents }).loss))(input.eps);
    const expected = tf.div(tf.mul(-2, tf.sub(input.noise, input.eps)), 64);
    expect(tf.max(tf.abs(tf.sub(dLoss, expected))).dataSync()[0]).toBeLessThan(1e-6);
  });

  it('tf.variableGrads reaches both halves through the loss', () => {
    const input = caseInput(io, 'caseA');
    const eps = tf.variable(input.eps);
    const variance = tf.variable(input.variance);
    const { value, grads } = tf.variableGrads(() => tf.mean(hybridLoss({ ...input, eps: eps as tf.Tensor as Latents, variance: variance as tf.Tensor as Latents }).loss));
    const expected = get<tf.Tensor1D>(io, 'caseA.loss').dataSync();
    expect(value.dataSync()[0]).toBeCloseTo(((expected[0] as number) + (expected[1] as number)) / 2, 4);
    for (const g of Object.values(grads)) expect(tf.max(tf.abs(g)).dataSync()[0]).toBeGreaterThan(0);
    expect(Object.keys(grads).length).toBe(2);
    eps.dispose();
    variance.dispose();
  });

  it('weight re-weights the mse elements and leaves vb alone', () => {
    const input = caseInput(io, 'caseA');
    const plain = hybridLoss(input);
    // [B, 1, h, w]: item 0 doubled everywhere, item 1 weighted 3 on its first cell only.
    const w = tf.tensor4d(Array.from({ length: 32 }, (_, k) => (k < 16 ? 2 : k === 16 ? 3 : 1)), [2, 1, 4, 4]);
    const weighted = hybridLoss(input, undefined, { weight: w });
    const [m0, m1] = Array.from(plain.mse.dataSync()), [w0, w1] = Array.from(weighted.mse.dataSync());
    expect(w0).toBeCloseTo(2 * (m0 as number), 5);
    // The first cell's 4 channel errors count twice more: w1 − m1 = 2·Σ_c err[1, c, 0, 0] / 64.
    const err = tf.square(tf.sub(input.noise, input.eps)).arraySync() as number[][][][];
    const cell = (err[1] as number[][][]).reduce((a, ch) => a + ((ch[0] as number[])[0] as number), 0);
    expect((w1 as number) - (m1 as number)).toBeCloseTo((2 * cell) / 64, 6);
    expect(Array.from(weighted.vb.dataSync())).toEqual(Array.from(plain.vb.dataSync()));
  });

  it('leaves only its three outputs behind', () => {
    const input = caseInput(io, 'caseA');
    const before = tf.memory().numTensors;
    const out = hybridLoss(input);
    expect(tf.memory().numTensors).toBe(before + 3);
    tf.dispose([out.loss, out.mse, out.vb]);
  });

  it('rejects bad timesteps and shapes with MigeInputError', () => {
    const input = caseInput(io, 'caseA');
    expect(() => qSample(input.x0, [0, 1000], input.noise)).toThrow(/t\[1\] = 1000 is not an integer timestep in 0\.\.999/);
    expect(() => qSample(input.x0, [0.5, 1], input.noise)).toThrow(MigeInputError);
    expect(() => hybridLoss({ ...input, t: [0] })).toThrow(/t has 1 timesteps but the batch has 2 items/);
    expect(() => hybridLoss({ ...input, variance: tf.zeros([2, 4, 4, 3]) as Latents })).toThrow(/variance has shape \[2, 4, 4, 3\]/);
  });
});

afterAll(() => {
  if (process.env.IDDPM_LOSS_REPORT) console.log(report.join('\n'));
});
