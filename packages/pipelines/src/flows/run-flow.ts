import { encodeImage, getBackendInfo, MigeInputError, Rng, tensorToImages, tf, type ImageBatch, type Latents, type RgbImage } from '@mige/core';
import { buildPrompt } from '@mige/encoder';
import type { MigeModel } from '../model/index.js';
import { modelFlowDefaults } from './defaults.js';
import { denoise } from './denoise.js';
import { resolveEngine } from './engine-select.js';
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
  return { steps, scales, numImages, size, seed, previewEvery, sampler, latents: options.latents ?? 'sample', guidance: d.guidance, engine };
}

/** Items in request order, `numImages` per request with seeds seed, seed + 1, … */
export function expandItems<R extends { seed?: number }>(requests: readonly R[], numImages: number, seed: number, toItem: (r: R, seed: number) => Omit<FlowItem, 'seed'>): FlowItem[] {
  return requests.flatMap((r) => Array.from({ length: numImages }, (_, k) => ({ ...toItem(r, (r.seed ?? seed) + k), seed: (r.seed ?? seed) + k })));
}

/** Previews decode in TF.js whatever the engine: the step callback is synchronous. */
function decode(model: MigeModel, x: Latents): ImageBatch {
  return tf.tidy(() => model.vae.decode(tf.div(x, model.vae.scalingFactor) as Latents));
}

/** Encode once, sample the guided loop, decode: the body shared by generate, edit and compose. */
export async function runFlow(model: MigeModel, flow: FlowName, items: FlowItem[], options: FlowOptions, opts: ReturnType<typeof resolveOptions>): Promise<FlowResult> {
  const engine = await resolveEngine(model, opts.engine);
  let prepared: PreparedItems | undefined;
  let encoding: { y: tf.Tensor3D; mask: tf.Tensor2D; warnings: string[] } | undefined;
  let xT: Latents | undefined;
  try {
    prepared = await prepareItemsWith(engine, model, items, opts.latents);
    encoding = await engine.encode(prepared.inputs);
    const noises = items.map((it) => initialNoise(model, it.seed));
    xT = tf.concat(noises, 0) as Latents;
    tf.dispose(noises);
    const { onStep } = options;
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
      ...(onStep
        ? {
            onStep: (s) => {
              const wantPreview = opts.previewEvery > 0 && (s.index + 1) % opts.previewEvery === 0;
              const preview = wantPreview ? tensorToImagesDisposing(decode(model, s.denoised)) : undefined;
              onStep(s.index + 1, s.total, preview);
            },
          }
        : {}),
    });
    const unscaled = tf.tidy(() => tf.div(x0, model.vae.scalingFactor) as Latents);
    x0.dispose();
    let tensor: ImageBatch;
    try {
      tensor = await engine.vaeDecode(unscaled);
    } finally {
      unscaled.dispose();
    }
    const images = tensorToImages(tensor);
    const backend = getBackendInfo()?.name ?? tf.getBackend();
    const out: FlowImage[] = [];
    for (let i = 0; i < items.length; i++) {
      const item = items[i] as FlowItem;
      const params: GenerationParams = {
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
        latents: opts.latents,
        backend,
        engine: engine.name,
      };
      const image = images[i] as RgbImage;
      out.push({ image, png: await encodeImage(image, 'png'), params });
    }
    return { images: out, tensor, warnings: encoding.warnings };
  } finally {
    if (prepared) disposeInputs(prepared);
    if (encoding) tf.dispose([encoding.y, encoding.mask]);
    xT?.dispose();
  }
}

function tensorToImagesDisposing(t: ImageBatch): RgbImage[] {
  try {
    return tensorToImages(t);
  } finally {
    t.dispose();
  }
}

export { resolveOptions };
