import { tf, type DiffusionBackbone, type Rng, type Latents, type TokenMask, type TokenSequence } from '@mige/core';
import type { FlowEngine } from './engine.js';
import { createSampler, epsFromOutput, GUIDANCE_BRANCHES, guidedNoiseModel, type GuidanceScales, type GuidanceType, type Prediction, type SamplerConfig, type StepHook } from '../diffusion/index.js';

export interface DenoiseInput {
  backbone: DiffusionBackbone;
  /** Condition y [B, L, C] and its mask [B, L]: encoded once, reused at every step. */
  y: TokenSequence;
  mask: TokenMask;
  /** Conditional input [B, 4, h, w] (scaled source latents or zeros). */
  cond: Latents;
  xT: Latents;
  guidance: GuidanceType;
  scales: GuidanceScales;
  sampler: SamplerConfig;
  steps: number;
  /** After every step; a returned tensor replaces the sample (see StepHook). */
  onStep?: StepHook;
  signal?: AbortSignal;
  /** One generator per item for stochastic samplers (DDPM, DDIM with eta > 0). */
  rngs?: Rng[];
  /** What the backbone predicts (default 'epsilon'); v outputs are turned into ε for the sampler. */
  prediction?: Prediction;
  /** Runs the network calls (default: `backbone.forward` in TF.js); the backbone still gives the null condition. */
  engine?: Pick<FlowEngine, 'denoiseStep'>;
}

/**
 * The guided sampling loop. The k guidance branches of every item run as one batch of k·B rows
 * (branch-major, as the reference concatenates them): y is the learned null condition where a
 * branch drops the instruction, the conditional input is zeros where it drops the source. As in
 * the reference, the null-condition rows keep the instruction's mask.
 */
export async function denoise(input: DenoiseInput): Promise<Latents> {
  const { backbone, y, mask, cond } = input;
  const branches = GUIDANCE_BRANCHES[input.guidance];
  const b = y.shape[0];
  const { yAll, condAll, maskAll } = tf.tidy(() => {
    const nullY = backbone.nullCondition();
    const nullRows = tf.tile(tf.expandDims(nullY, 0), [b, 1, 1]);
    const zeros = tf.zerosLike(cond);
    return {
      yAll: tf.concat(branches.map((br) => (br.nullY ? nullRows : y)), 0) as TokenSequence,
      condAll: tf.concat(branches.map((br) => (br.zeroSource ? zeros : cond)), 0) as Latents,
      maskAll: tf.concat(branches.map(() => mask), 0) as TokenMask,
    };
  });
  const rows = b * branches.length;
  const { engine } = input;
  // Runs inside guidedNoiseModel's tidy: t is freed after the call (an async engine keeps what it reads later).
  const prediction = input.prediction ?? 'epsilon';
  const batched = (x: Latents, modelTime: number): Latents | Promise<Latents> => {
    const step = { x, cond: condAll, t: tf.fill([rows], modelTime) as tf.Tensor1D, y: yAll, mask: maskAll };
    if (!engine) return epsFromOutput(prediction, backbone.forward(step).eps, x, modelTime);
    const out = engine.denoiseStep(step);
    return out instanceof Promise ? out.then((o) => asEps(prediction, o, x, modelTime)) : epsFromOutput(prediction, out, x, modelTime);
  };
  try {
    const model = guidedNoiseModel(input.guidance, input.scales, batched);
    return await createSampler(input.sampler).sample(model, input.xT, {
      steps: input.steps,
      ...(input.onStep ? { onStep: input.onStep } : {}),
      ...(input.signal ? { signal: input.signal } : {}),
      ...(input.rngs ? { rng: input.rngs } : {}),
    });
  } finally {
    tf.dispose([yAll, condAll, maskAll]);
  }
}

/** epsFromOutput for an engine's asynchronous output, freeing the raw output it replaces. */
function asEps(prediction: Prediction, out: Latents, x: Latents, modelTime: number): Latents {
  if (prediction === 'epsilon') return out;
  const eps = epsFromOutput(prediction, out, x, modelTime);
  out.dispose();
  return eps;
}
