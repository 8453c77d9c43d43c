import { encodeImage, getBackendInfo, MigeInputError, Rng, tensorToImages, tf, type ImageBatch, type Latents, type RgbImage } from '@mige/core';
import { buildPrompt } from '@mige/encoder';
import type { MigeModel } from '../model/index.js';
import { modelFlowDefaults } from './defaults.js';
import { denoise } from './denoise.js';
import { resolveEngine } from './engine-select.js';
import type { FlowEngine } from './engine.js';
import { disposeInputs, initialNoise, prepareItemsWith, type FlowItem, type PreparedItems } from './prepare.js';
import type { SamplerConfig } from '../diffusion/index.js';
import type { FlowImage, FlowName, FlowOptions, FlowResult, GenerationParams } from './types.js';

/** Options with the flow's defaults filled in and checked. */
function resolveOptions(model: MigeModel, flow: FlowName, options: FlowOptions) {
  // The request's options, else the model's own defaults (sampling.json), else the reference's.
  const d = modelFlowDefaults(model, flow);
  const steps = options.steps ?? d.steps;
  const scales = { ...d.scales, ...options.scales };
  const numImages = options.numImages ?? 1;
  const size = options.size ?? model.config.imageSize;
  const where = `${flow} options`;
  if (!Number.isInteger(steps) || steps < 1) throw new MigeInputError(`steps must be a positive integer, got ${steps}`, where);
  if (!Number.isInteger(numImages) || numImages < 1) throw new MigeInputError(`numImages must be a positive integer, got ${numImages}`, where);
  for (const [k, v] of Object.entries(scales)) {
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new MigeInputError(`scales.${k} must be a finite number, got ${String(v)}`, where);
  }
  if (size !== model.config.imageSize) {
    throw new MigeInputError(`size ${size} is not supported: model ${model.config.name} generates ${model.config.imageSize} px images`, where);
  }
  const seed = options.seed ?? 0;
  if (!Number.isSafeInteger(seed) || seed < 0) throw new MigeInputError(`seed must be a non-negative integer, got ${seed}`, where);
  const previewEvery = options.previewEvery ?? 0;
  if (!Number.isInteger(previewEvery) || previewEvery < 0) throw new MigeInputError(`previewEvery must be an integer >= 0, got ${previewEvery}`, where);
  // Previews decode in TF.js (the step callback is synchronous).
  if (previewEvery > 0 && !model.hasWeights()) throw new MigeInputError(`previews need the model's TF.js weights; model '${model.config.name}' holds only an ONNX export`, where);
  const engine = options.engine;
  if (engine !== undefined && engine !== 'tfjs' && engine !== 'onnx' && (typeof engine !== 'object' || engine === null || typeof engine.denoiseStep !== 'function')) {
    throw new MigeInputError(`engine must be 'tfjs', 'onnx' or a FlowEngine, got ${JSON.stringify(engine)}`, where);
  }
  // Like the scales, a sampler of the model's own type changes only the fields it names (so
  // { type: 'dpm-solver', order: 3 } keeps the model's maxTimestep); another type replaces it.
  const sampler = options.sampler && options.sampler.type === d.sampler.type ? ({ ...d.sampler, ...options.sampler } as SamplerConfig) : (options.sampler ?? d.sampler);
    const referenceLatents = options.referenceLatents ?? 'sample';
  if (referenceLatents !== 'sample' && referenceLatents !== 'mean') throw new MigeInputError(`referenceLatents must be 'sample' or 'mean', got ${JSON.stringify(referenceLatents)}`, where);
  if (options.latents !== undefined && !(options.latents instanceof tf.Tensor)) throw new MigeInputError('latents must be a tensor [N, C, h, w] of initial noise', where);
  return { steps, scales, numImages, size, seed, previewEvery, sampler, referenceLatents, guidance: d.guidance, engine };
}

/** Items in request order, `numImages` per request with seeds seed, seed + 1, … */
export function expandItems<R extends { seed?: number }>(requests: readonly R[], numImages: number, seed: number, toItem: (r: R, seed: number) => Omit<FlowItem, 'seed'>): FlowItem[] {
  return requests.flatMap((r) => Array.from({ length: numImages }, (_, k) => ({ ...toItem(r, (r.seed ?? seed) + k), seed: (r.seed ?? seed) + k })));
}

/** Previews decode in TF.js whatever the engine: the step callback is synchronous. */
function decode(model: MigeModel, x: Latents): ImageBatch {
  return tf.tidy(() => model.vae.decode(tf.div(x, model.vae.scalingFactor) as Latents));
}

/** What a flow sampled, before decoding: the final latents and each image's parameters. */
export interface SampledFlow {
  /** x_0 [N, C, h, w], scaled latents (as the sampler works on them); the caller disposes it. */
  latents: Latents;
  params: GenerationParams[];
  warnings: string[];
  engine: FlowEngine;
}

/** The call's x_T: the given latents (checked against the items and the model) or one draw per item seed. */
function initialLatents(model: MigeModel, items: readonly FlowItem[], given: Latents | undefined): Latents {
  const s = model.latentSize();
  const shape = [items.length, model.vae.latentChannels, s, s];
  if (given === undefined) {
    const noises = items.map((it) => initialNoise(model, it.seed));
    const xT = tf.concat(noises, 0) as Latents;
    tf.dispose(noises);
    return xT;
  }
  if (given.shape.join() !== shape.join() || given.dtype !== 'float32') {
    throw new MigeInputError(`latents must be float32 [${shape.join(', ')}] (one row per image of the call), got ${given.dtype} [${given.shape.join(', ')}]`, 'latents');
  }
  return tf.clone(given);
}

/** Encode once, sample the guided loop: the body shared by generate, edit and compose, up to the decode. */
export async function sampleFlow(model: MigeModel, flow: FlowName, items: FlowItem[], options: FlowOptions, opts: ReturnType<typeof resolveOptions>): Promise<SampledFlow> {
  const engine = await resolveEngine(model, opts.engine);
  let prepared: PreparedItems | undefined;
  let encoding: { y: tf.Tensor3D; mask: tf.Tensor2D; warnings: string[] } | undefined;
  let xT: Latents | undefined;
  try {
    xT = initialLatents(model, items, options.latents);
    prepared = await prepareItemsWith(engine, model, items, opts.referenceLatents);
    encoding = await engine.encode(prepared.inputs);
    const { onStep, onStepEnd } = options;
    const x0 = await denoise({
      backbone: model.backbone,
      y: encoding.y,
      mask: encoding.mask,
      cond: prepared.cond,
      xT,
      guidance: opts.guidance,
      scales: opts.scales,
      sampler: opts.sampler,
      steps: opts.steps,
      prediction: model.config.prediction ?? 'epsilon',
      engine,
      // Stochastic samplers draw from each item's own `sampler` stream, like x_T from `noise`.
      rngs: items.map((it) => new Rng(it.seed).fork('sampler')),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(onStep || onStepEnd
        ? {
            onStep: (s) => {
              if (onStep) {
                const wantPreview = opts.previewEvery > 0 && (s.index + 1) % opts.previewEvery === 0;
                const preview = wantPreview ? tensorToImagesDisposing(decode(model, s.denoised)) : undefined;
                onStep(s.index + 1, s.total, preview);
              }
              return onStepEnd?.({ step: s.index + 1, total: s.total, t: s.modelTime, latents: s.x });
            },
          }
        : {}),
    });
    const backend = getBackendInfo()?.name ?? tf.getBackend();
    const params = items.map(
      (item): GenerationParams => ({
        flow,
        model: model.config.name,
        instruction: item.text,
        prompt: buildPrompt(item.text, item.task === 'raw' ? 'raw' : item.task),
        seed: item.seed,
        steps: opts.steps,
        guidance: opts.guidance,
        scales: opts.scales,
        sampler: opts.sampler,
        size: opts.size,
        referenceLatents: opts.referenceLatents,
        ...(options.latents ? { initialLatents: 'given' as const } : {}),
        backend,
        engine: engine.name,
      }),
    );
    return { latents: x0, params, warnings: encoding.warnings, engine };
  } finally {
    if (prepared) disposeInputs(prepared);
    if (encoding) tf.dispose([encoding.y, encoding.mask]);
    xT?.dispose();
  }
}

/** Scaled latents [N, C, h, w] → images [N, 3, H, W] in [-1, 1] (unclamped), on the flow's engine. */
export async function decodeLatents(engine: FlowEngine, model: MigeModel, latents: Latents): Promise<ImageBatch> {
  const unscaled = tf.tidy(() => tf.div(latents, model.vae.scalingFactor) as Latents);
  try {
    return await engine.vaeDecode(unscaled);
  } finally {
    unscaled.dispose();
  }
}

/** Encode once, sample the guided loop, decode, PNG: the functional flows' result. */
export async function runFlow(model: MigeModel, flow: FlowName, items: FlowItem[], options: FlowOptions, opts: ReturnType<typeof resolveOptions>): Promise<FlowResult> {
  const sampled = await sampleFlow(model, flow, items, options, opts);
  let tensor: ImageBatch;
  try {
    tensor = await decodeLatents(sampled.engine, model, sampled.latents);
  } finally {
    sampled.latents.dispose();
  }
  const images = tensorToImages(tensor);
  const out: FlowImage[] = [];
  for (const [i, params] of sampled.params.entries()) {
    const image = images[i] as RgbImage;
    out.push({ image, png: await encodeImage(image, 'png'), params });
  }
  return { images: out, tensor, warnings: sampled.warnings };
}

function tensorToImagesDisposing(t: ImageBatch): RgbImage[] {
  try {
    return tensorToImages(t);
  } finally {
    t.dispose();
  }
}

export { resolveOptions };
