// Every module's ONNX gradients (core's addGradients on the module's own emitter, run in ONNX
// Runtime) against TF.js autodiff through the module, on the golden fixtures' configs and weights;
// and, for the T5 encoder and the hybrid loss, against central finite differences of the same
// graph evaluated in float64.
import { emitLayerNorm, nn, SafetensorsReader, tf, widenToFloat64, type Latents, type TokenMask, type TokenSequence } from '@mige/core';
import { fixturePath, readFixture, useBackend } from '@mige/core/testing';
import { createBackbone, emitConditionalDiT, MIGE_TINY } from '@mige/dit';
import { emitEvaViT, emitQFormer, emitT5Encoder, QFORMER_TINY, QFormer, T5_TINY, T5Encoder, EVA_VIT_TINY, VisionEncoder } from '@mige/encoder';
import { emitFFM, FFM, FFM_TINY } from '@mige/fusion';
import { createAutoencoderKL, emitVaeEncodeMoments, SD_VAE_TINY } from '@mige/vae';
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { hybridLoss } from '../../src/loss/index.js';
import { emitHybridLoss } from '../../src/loss/iddpm.onnx.js';
import { scheduleRows } from '../../src/train/onnx/feeds.js';
import { SCHEDULE_COLUMNS } from '../../src/train/onnx/train-graph.js';
import { buildModuleGraph, moduleGradParity, type ModuleCase } from './grad-parity.js';

const TOL = 1e-5;

function get<T extends tf.Tensor = tf.Tensor>(m: Map<string, tf.Tensor>, k: string): T {
  const t = m.get(k);
  if (!t) throw new Error(`fixture has no tensor ${k}`);
  return t as T;
}

function loaded<M extends nn.Module>(module: M, file: string, map?: (k: string) => string | undefined): M {
  const reader = SafetensorsReader.open(fixturePath(file));
  try {
    module.loadStateDict(map ? nn.renameKeys(reader, map) : reader, { strict: false });
  } finally {
    reader.close();
  }
  return module;
}

/** Gradients that are zero in exact arithmetic: keys shifted equally (softmax is shift-invariant) and biases a per-channel norm removes. */
const KEY_BIAS = /(key\.bias|to_k\.bias|ln_k_1\.bias)$/;

async function expectParity(c: ModuleCase): Promise<void> {
  const r = await moduleGradParity(c);
  const shown = [...r.rel].sort((a, b) => b[1] - a[1]).slice(0, 3).map(([k, v]) => `${k}: ${v.toExponential(2)}`).join(', ');
  expect(r.outputRel, 'forward output').toBeLessThanOrEqual(TOL);
  expect(r.worst, `worst gradients: ${shown}`).toBeLessThanOrEqual(TOL);
  expect(r.worstZero, `structurally zero: ${[...r.zero].map(([k, v]) => `${k}: ${v.toExponential(2)}`).join(', ')}`).toBeLessThanOrEqual(1e-6);
  expect(r.rel.size + r.zero.size).toBe(c.params.length + (c.diffInputs?.length ?? 0));
}

describe('module gradients: ONNX (addGradients) against TF.js autodiff', () => {
  beforeAll(() => useBackend('cpu'));

  it('PixArt DiT (the dit fixture)', async () => {
    const io = readFixture('dit/io.safetensors');
    const dit = loaded(nn.withoutInit(() => createBackbone(MIGE_TINY)).module, 'dit/weights.safetensors');
    const y = tf.squeeze(get(io, 'y'), [1]);
    await expectParity({
      params: dit.namedParameters(),
      inputs: { x: get(io, 'x'), cond: get(io, 'source'), t: get(io, 'timestep'), y, mask: tf.cast(get(io, 'mask'), 'float32') },
      diffInputs: ['x', 'y'],
      emit: (g, i) => emitConditionalDiT(g, dit, { x: i.x!, cond: i.cond!, t: i.t!, y: i.y!, mask: i.mask! }),
      forward: (i) => dit.forward({ x: i.x as Latents, cond: i.cond as Latents, t: i.t as tf.Tensor1D, y: i.y as TokenSequence, mask: i.mask as TokenMask }),
    });
  });

  it('DiT adaLN-Zero (random non-zero weights)', async () => {
    const io = readFixture('dit/io.safetensors');
    const dit = createBackbone({ ...MIGE_TINY, type: 'dit-adaln-zero' }).module;
    let k = 0;
    for (const [, p] of dit.namedParameters()) p.assign(tf.mul(tf.randomNormal(p.shape, 0, 1, 'float32', k++), p.rank >= 2 ? 1 / Math.sqrt(p.shape[1] as number) : 0.1));
    await expectParity({
      params: dit.namedParameters(),
      inputs: { x: get(io, 'x'), cond: get(io, 'source'), t: get(io, 'timestep'), y: tf.squeeze(get(io, 'y'), [1]), mask: tf.cast(get(io, 'mask'), 'float32') },
      diffInputs: ['x'],
      emit: (g, i) => emitConditionalDiT(g, dit, { x: i.x!, cond: i.cond!, t: i.t!, y: i.y!, mask: i.mask! }),
      forward: (i) => dit.forward({ x: i.x as Latents, cond: i.cond as Latents, t: i.t as tf.Tensor1D, y: i.y as TokenSequence, mask: i.mask as TokenMask }),
    });
  });

  it('T5 encoder on inputs_embeds with padding (the t5_encoder fixture, MIGE path)', async () => {
    const io = readFixture('t5_encoder/io.safetensors');
    const t5 = loaded(nn.withoutInit(() => new T5Encoder(T5_TINY)), 't5_encoder/weights.safetensors');
    const embeds = get(io, 'caseB.inputs_embeds');
    await expectParity({
      params: t5.namedParameters().filter(([n]) => n !== 'shared.weight'),
      inputs: { embeds, mask: tf.cast(get(io, 'caseB.attention_mask'), 'float32') },
      diffInputs: ['embeds'],
      emit: (g, i) => emitT5Encoder(g, t5, { inputsEmbeds: i.embeds!, attentionMask: i.mask! }, embeds.shape[1] as number),
      forward: (i) => t5.forward({ inputsEmbeds: i.embeds as TokenSequence, attentionMask: tf.cast(i.mask as tf.Tensor, 'int32') as TokenMask }),
    });
  });

  it('BLIP-2 Q-Former (the qformer fixture)', async () => {
    const io = readFixture('qformer/io.safetensors');
    const q = loaded(nn.withoutInit(() => new QFormer(QFORMER_TINY)), 'qformer/weights.safetensors');
    await expectParity({
      params: q.namedParameters(),
      inputs: { image: get(io, 'image_embeds') },
      diffInputs: ['image'],
      structurallyZero: KEY_BIAS,
      emit: (g, i) => emitQFormer(g, q, i.image!),
      forward: (i) => q.forward(i.image as TokenSequence),
    });
  });

  it('FFM (the ffm fixture)', async () => {
    const io = readFixture('ffm/io.safetensors');
    const ffm = loaded(new FFM(FFM_TINY), 'ffm/weights.safetensors');
    await expectParity({
      params: ffm.namedParameters('FFM.'),
      inputs: { clip: get(io, 'clip'), vae: get(io, 'vae') },
      diffInputs: ['clip', 'vae'],
      structurallyZero: KEY_BIAS,
      emit: (g, i) => emitFFM(g, ffm, i.clip!, i.vae!),
      forward: (i) => ffm.forward(i.clip as TokenSequence, i.vae as TokenSequence),
    });
  });

  it('EVA ViT + ln_vision (the eva_vit fixture; frozen in training, differentiable all the same)', async () => {
    const io = readFixture('eva_vit/io.safetensors');
    const v = loaded(nn.withoutInit(() => new VisionEncoder(EVA_VIT_TINY)), 'eva_vit/weights.safetensors');
    v.visualEncoder.requiresGrad(true); // frozen by default, which TF.js's tape skips
    await expectParity({
      params: v.namedParameters(),
      inputs: { images: get(io, 'images') },
      diffInputs: ['images'],
      structurallyZero: KEY_BIAS,
      emit: (g, i) => emitLayerNorm(g, v.lnVision, emitEvaViT(g, v.visualEncoder, i.images!, 'visual_encoder'), 'ln_vision'),
      forward: (i) => v.forward(i.images as tf.Tensor4D),
    });
  });

  it('VAE encoder to its moments (the vae fixture; frozen in training)', async () => {
    const io = readFixture('vae/io.safetensors');
    const vae = createAutoencoderKL(SD_VAE_TINY, { init: false });
    loaded(vae, 'vae/weights.safetensors');
    await expectParity({
      params: vae.namedParameters().filter(([n]) => n.startsWith('encoder.') || n.startsWith('quant_conv.')),
      inputs: { image: get(io, 'image') },
      diffInputs: ['image'],
      // 32 groups of 32 channels in down_blocks.0: GroupNorm cancels conv1's bias there.
      structurallyZero: /(to_k\.bias|down_blocks\.0\.resnets\.0\.conv1\.bias)$/,
      emit: (g, i) => emitVaeEncodeMoments(g, vae, i.image!),
      forward: (i) => vae.encodeMoments(i.image as tf.Tensor4D),
    });
  });
});

/** The iddpm_loss fixture's case as graph inputs: the model output's halves, the data and the schedule rows at its t. */
function lossCase(io: Map<string, tf.Tensor>, name: string) {
  const out = get(io, `${name}.model_output`);
  const [eps, variance] = tf.split(out, 2, 1) as [tf.Tensor, tf.Tensor];
  const t = Int32Array.from(get(io, `${name}.t`).dataSync());
  return { eps, variance, x0: get(io, `${name}.x_start`), noise: get(io, `${name}.noise`), xT: get(io, `${name}.x_t`), t, schedule: tf.tensor2d(scheduleRows(t, 'eps', Infinity), [t.length, SCHEDULE_COLUMNS.length]) };
}

function emitLossCase(g: Parameters<ModuleCase['emit']>[0], i: Record<string, string>, batch: number): string {
  const col = (name: (typeof SCHEDULE_COLUMNS)[number], dims: number[]) => g.reshape(g.gather(i.schedule!, g.constantI64([SCHEDULE_COLUMNS.indexOf(name)], []), 1), dims);
  const per = (name: (typeof SCHEDULE_COLUMNS)[number]) => col(name, [batch, 1, 1, 1]);
  return emitHybridLoss(g, { x0: i.x0!, noise: i.noise!, xT: i.xT!, eps: i.eps!, variance: i.variance! }, {
    sqrtRecipAlphasCumprod: per('sqrtRecipAlphasCumprod'),
    sqrtRecipm1AlphasCumprod: per('sqrtRecipm1AlphasCumprod'),
    posteriorMeanCoef1: per('posteriorMeanCoef1'),
    posteriorMeanCoef2: per('posteriorMeanCoef2'),
    posteriorLogVarianceClipped: per('posteriorLogVarianceClipped'),
    logBetas: per('logBetas'),
    isFirstStep: col('isFirstStep', [batch]),
  }).loss;
}

describe('the hybrid loss: ONNX gradients against TF.js (the iddpm_loss fixture)', () => {
  beforeAll(() => useBackend('cpu'));
  const lossModule = (c: ReturnType<typeof lossCase>, cotangent?: Float32Array): ModuleCase => ({
    params: [],
    inputs: { eps: c.eps, variance: c.variance, x0: c.x0, noise: c.noise, xT: c.xT, schedule: c.schedule },
    diffInputs: ['eps', 'variance'],
    ...(cotangent ? { cotangent } : {}),
    emit: (g, i) => emitLossCase(g, i, c.t.length),
    forward: (i) => hybridLoss({ x0: c.x0 as Latents, t: c.t, noise: c.noise as Latents, xT: c.xT as Latents, eps: i.eps as Latents, variance: i.variance as Latents }).loss,
  });

  for (const name of ['caseA', 'caseB']) {
    it(`${name}: the loss per item and its gradients w.r.t. ε and the variance, items at t > 0`, async () => {
      const io = readFixture('iddpm_loss/io.safetensors');
      const c = lossCase(io, name);
      // The t = 0 item (the decoder NLL) is checked below against float64.
      const r = await moduleGradParity(lossModule(c, Float32Array.from(c.t, (t) => (t > 0 ? 1 : 0))));
      expect(r.outputRel).toBeLessThanOrEqual(TOL);
      expect(r.worst, r.worstName).toBeLessThanOrEqual(TOL);
      const ref = get(io, `${name}.loss`).dataSync();
      const ours = hybridLoss({ x0: c.x0 as Latents, t: c.t, noise: c.noise as Latents, xT: c.xT as Latents, eps: c.eps as Latents, variance: c.variance as Latents }).loss.dataSync();
      expect(Math.max(...ours.map((v, k) => Math.abs(v - (ref[k] as number))))).toBeLessThan(1e-4);
    });
  }

  it('caseA t = 0 (the decoder NLL): both engines\' float32 gradients within 3e-5 of the float64 evaluation', async () => {
    // log(CDF(+) − CDF(−)) cancels two tanh-based CDFs, so a few ULP in tanh become ~1e-5 of the
    // gradient: measured against the same graph in float64, TF.js (JS Math.tanh) is 9.5e-6 off and
    // ONNX Runtime (its vectorised tanh) 2.2e-5; the items at t > 0 agree to 1e-5 above.
    const c = lossCase(readFixture('iddpm_loss/io.safetensors'), 'caseA');
    expect(Array.from(c.t)).toEqual([0, 637]);
    const cot = Float32Array.from(c.t, (t) => (t === 0 ? 1 : 0));
    const graph = buildModuleGraph(lossModule(c, cot));
    const feeds = (wide: boolean): Record<string, ort.Tensor> => {
      const f: Record<string, ort.Tensor> = { cotangent: wide ? new ort.Tensor('float64', Float64Array.from(cot), [2]) : new ort.Tensor('float32', cot, [2]) };
      for (const [n, v] of Object.entries(lossModule(c).inputs)) f[n] = wide ? new ort.Tensor('float64', Float64Array.from(v.dataSync()), v.shape) : new ort.Tensor('float32', Float32Array.from(v.dataSync()), v.shape);
      return f;
    };
    const s32 = await ort.InferenceSession.create(graph.bytes), s64 = await ort.InferenceSession.create(widenToFloat64(graph.bytes));
    const key = graph.gradOutputs.get('input:variance') as string;
    const exact = (await s64.run(feeds(true)))[key]?.data as Float64Array;
    const onnx32 = (await s32.run(feeds(false)))[key]?.data as Float32Array;
    await Promise.all([s32.release(), s64.release()]);
    const v = tf.variable(c.variance);
    const { grads } = tf.variableGrads(() => tf.sum(tf.mul(hybridLoss({ x0: c.x0 as Latents, t: c.t, noise: c.noise as Latents, xT: c.xT as Latents, eps: c.eps as Latents, variance: v as unknown as Latents }).loss, tf.tensor1d(cot))) as tf.Scalar, [v]);
    const tf32 = Object.values(grads)[0]?.dataSync() as Float32Array;
    const rel = (a: ArrayLike<number>): number => {
      let d = 0, s = 0;
      for (let i = 0; i < exact.length; i++) {
        d = Math.max(d, Math.abs((a[i] as number) - (exact[i] as number)));
        s = Math.max(s, Math.abs(exact[i] as number));
      }
      return d / s;
    };
    expect(rel(onnx32)).toBeLessThanOrEqual(3e-5);
    expect(rel(tf32)).toBeLessThanOrEqual(3e-5);
  });
});

/**
 * The gradient graph evaluated in float64 (the same graph, widened) against central differences
 * of its own output Σ c·y, along the gradient's direction: (L(θ + h·u) − L(θ − h·u)) / 2h ≈ ∇L·u
 * = |∇L| with u = ∇L/|∇L|, error O(h²). In double precision neither side's rounding matters, so
 * this checks the gradient rules' mathematics, independently of TF.js.
 */
async function finiteDifference(c: ModuleCase, wrt: string): Promise<{ analytic: number; numeric: number }> {
  const graph = buildModuleGraph(c);
  const session = await ort.InferenceSession.create(widenToFloat64(graph.bytes));
  const cot = Float64Array.from(tf.tidy(() => tf.randomNormal(graph.yShape, 0, 1, 'float32', 5).dataSync()));
  const base = new Map<string, { data: Float64Array; shape: number[] }>();
  for (const [n, t] of Object.entries(c.inputs)) base.set(n, { data: Float64Array.from(t.dataSync()), shape: t.shape });
  for (const p of graph.params) {
    const v = c.params.find(([n]) => n === p.name)?.[1] as tf.Variable;
    base.set(p.name, { data: Float64Array.from(v.dataSync()), shape: [...p.shape] });
  }
  const name = wrt.startsWith('input:') ? wrt.slice(6) : wrt;
  const run = async (direction?: Float64Array, h = 0) => {
    const feeds: Record<string, ort.Tensor> = { cotangent: new ort.Tensor('float64', cot, graph.yShape) };
    for (const [n, { data, shape }] of base) feeds[n] = new ort.Tensor('float64', direction && n === name ? data.map((v, i) => v + h * (direction[i] as number)) : data, shape);
    return session.run(feeds);
  };
  const grad = (await run())[graph.gradOutputs.get(wrt) as string]?.data as Float64Array;
  const norm = Math.sqrt(grad.reduce((s, v) => s + v * v, 0));
  const u = grad.map((v) => v / norm);
  const loss = async (h: number): Promise<number> => {
    const y = (await run(u, h)).__y?.data as Float64Array;
    return y.reduce((s, v, i) => s + v * (cot[i] as number), 0);
  };
  const h = 1e-4;
  const numeric = ((await loss(h)) - (await loss(-h))) / (2 * h);
  await session.release();
  return { analytic: norm, numeric };
}

describe('ONNX gradients against finite differences (float64)', () => {
  beforeAll(() => useBackend('cpu'));

  it('T5 encoder: a layer norm, an attention projection, the position bias table and the input', async () => {
    const io = readFixture('t5_encoder/io.safetensors');
    const t5 = loaded(nn.withoutInit(() => new T5Encoder(T5_TINY)), 't5_encoder/weights.safetensors');
    const embeds = get(io, 'caseB.inputs_embeds');
    const c: ModuleCase = {
      params: t5.namedParameters().filter(([n]) => n !== 'shared.weight'),
      inputs: { embeds, mask: tf.cast(get(io, 'caseB.attention_mask'), 'float32') },
      diffInputs: ['embeds'],
      emit: (g, i) => emitT5Encoder(g, t5, { inputsEmbeds: i.embeds!, attentionMask: i.mask! }, embeds.shape[1] as number),
      forward: () => tf.scalar(0),
    };
    for (const wrt of ['encoder.final_layer_norm.weight', 'encoder.block.1.layer.0.SelfAttention.v.weight', 'encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight', 'input:embeds']) {
      const { analytic, numeric } = await finiteDifference(c, wrt);
      expect(Math.abs(analytic - numeric) / analytic, wrt).toBeLessThanOrEqual(TOL);
    }
  });

  // (ε reaches the vb term through a stop-gradient, so its gradient is by design not the
  // derivative of the loss as a function; the variance's is.)
  it('the hybrid loss w.r.t. the variance', async () => {
    const io = readFixture('iddpm_loss/io.safetensors');
    const l = lossCase(io, 'caseA');
    const c: ModuleCase = {
      params: [],
      inputs: { eps: l.eps, variance: l.variance, x0: l.x0, noise: l.noise, xT: l.xT, schedule: l.schedule },
      diffInputs: ['eps', 'variance'],
      emit: (g, i) => emitLossCase(g, i, l.t.length),
      forward: () => tf.scalar(0),
    };
    for (const wrt of ['input:variance']) {
      const { analytic, numeric } = await finiteDifference(c, wrt);
      expect(Math.abs(analytic - numeric) / analytic, wrt).toBeLessThanOrEqual(TOL);
    }
  });
});
