import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  encodeImage,
  initBackend,
  MigeInputError,
  onnxExecutionProviders,
  tensorToImages,
  type BackendName,
  type ImageBatch,
  type Latents,
  type OnnxDevice,
  type OnnxExecutionProviders,
  type RgbImage,
} from '@mige/core';
import { modelFlowDefaults, type FlowDefaults } from '../flows/defaults.js';
import { planCompose, planEdit, planGenerate, type FlowPlan } from '../flows/flows.js';
import { decodeLatents, sampleFlow } from '../flows/run-flow.js';
import type { ComposeRequest, EditRequest, FlowName, FlowOptions, GenerateRequest, GenerationParams } from '../flows/types.js';
import { loadModel, MIGE_PRESETS, MigeModel, resolveModelSource } from '../model/index.js';
import { exportModel } from '../onnx/export-model.js';
import { readOnnxManifest } from '../onnx/manifest.js';
import { attachedOnnxEngine, attachOnnx, detachOnnx, modelOnnxDir } from '../onnx/model-onnx.js';

/** What a call returns as `images`: PNG files, RGB images, the decoded tensor, or the final latents. */
export type OutputType = 'png' | 'rgb' | 'tensor' | 'latents';

export interface OutputImages {
  /** One PNG file per image. */
  png: Buffer[];
  /** One 8-bit RGB image per image. */
  rgb: RgbImage[];
  /** The decoded images [N, 3, H, W] in [-1, 1] (unclamped); the caller disposes it. */
  tensor: ImageBatch;
  /** The final latents [N, C, h, w] (scaled, as `latents` and `onStepEnd` see them), not decoded; the caller disposes it. */
  latents: Latents;
}

export const OUTPUT_TYPES: readonly OutputType[] = ['png', 'rgb', 'tensor', 'latents'];

/** A call's options: the flows' (steps, scales, seed, numImages, sampler, latents, onStepEnd, …) and the output type. */
export interface PipelineCallOptions<T extends OutputType = 'rgb'> extends Omit<FlowOptions, 'engine' | 'size'> {
  /** Default 'rgb'. */
  outputType?: T;
}

export interface PipelineOutput<T extends OutputType = 'rgb'> {
  /** Requests in order, numImages each (one tensor row per image for 'tensor' and 'latents'). */
  images: OutputImages[T];
  /** Everything needed to make each image again. */
  params: GenerationParams[];
  /** Non-fatal problems, such as an instruction truncated to the encoder's length. */
  warnings: string[];
}

export interface FromPretrainedOptions {
  /**
   * Where the networks run: 'tfjs' (the model's modules on the TF.js backend) or 'onnx' (ONNX
   * Runtime; needs onnxruntime-node). Default: 'onnx' when the model folder holds an onnx/
   * export, else 'tfjs'.
   */
  engine?: 'tfjs' | 'onnx';
  /** The onnx engine's device: 'cpu' (default) or 'cuda' (ORT's CUDA provider, checked at load). */
  device?: OnnxDevice;
  /** The onnx engine's ORT execution providers, in order (instead of `device`). */
  executionProviders?: OnnxExecutionProviders;
  /**
   * The onnx engine's weight storage: 'fp32' or 'fp16' (half the size; computes in float32).
   * A folder's own onnx/ export must have it; without one, the model is exported with it (to a
   * temporary folder, removed by dispose). TF.js computes in float32 only.
   */
  dtype?: 'fp32' | 'fp16';
  /** The TF.js backend (default: the fastest that starts; MIGE_BACKEND overrides). */
  backend?: BackendName;
  /** Seed of a preset's random weights (default 0). */
  seed?: number;
  /** Where relative folder paths start (default process.cwd()). */
  cwd?: string;
}

type GenerateArgs<T extends OutputType> = GenerateRequest & PipelineCallOptions<T>;
type EditArgs<T extends OutputType> = EditRequest & PipelineCallOptions<T>;
type ComposeArgs<T extends OutputType> = ComposeRequest & PipelineCallOptions<T>;

/**
 * MIGE as one object, in the idiom of diffusers and transformers.js: `fromPretrained` a model
 * folder, the default model's name (`mige-world`) or a preset, then `generate`, `edit` and
 * `compose`. It runs the functional flows (generate / edit / compose), which stay available.
 *
 *   const pipe = await MigePipeline.fromPretrained('mige-world');
 *   const { images } = await pipe.edit({ instruction: 'make the background red', source, seed: 1 });
 */
export class MigePipeline {
  private constructor(
    /** The model: its config, tokenizer and components. */
    readonly model: MigeModel,
    /** Where its networks run. */
    readonly engine: 'tfjs' | 'onnx',
    private readonly tempDir: string | undefined,
  ) {}

  /** Loads a model folder, `mige-world` (the default model, also when `ref` is omitted) or a preset (random weights). */
  static async fromPretrained(ref?: string, options: FromPretrainedOptions = {}): Promise<MigePipeline> {
    const where = 'MigePipeline.fromPretrained';
    const { engine: requested, device, executionProviders, dtype } = options;
    if (requested !== undefined && requested !== 'tfjs' && requested !== 'onnx') throw new MigeInputError(`engine must be 'tfjs' or 'onnx', got ${JSON.stringify(requested)}`, where);
    if (dtype !== undefined && dtype !== 'fp32' && dtype !== 'fp16') throw new MigeInputError(`dtype must be 'fp32' or 'fp16', got ${JSON.stringify(dtype)}`, where);
    const source = resolveModelSource(ref, options.cwd, where);
    const folderExport = source.kind === 'folder' ? modelOnnxDir(source.dir) : undefined;
    const engine = requested ?? (folderExport !== undefined ? 'onnx' : 'tfjs');
    if (engine === 'tfjs' && (device === 'cuda' || executionProviders !== undefined || dtype === 'fp16')) {
      throw new MigeInputError(
        "device 'cuda', executionProviders and dtype 'fp16' apply to engine 'onnx' (ONNX Runtime); TF.js computes in float32 on its backend (for a GPU: @tensorflow/tfjs-node-gpu, backend 'tensorflow-gpu')",
        where,
      );
    }
    await initBackend(options.backend ? { backend: options.backend } : {});
    const model = source.kind === 'preset' ? MigeModel.create(MIGE_PRESETS[source.name], { seed: options.seed ?? 0 }) : loadModel(source.dir);
    let tempDir: string | undefined;
    try {
      if (engine === 'onnx') {
        let dir = folderExport;
        if (dir !== undefined && dtype !== undefined && readOnnxManifest(dir).dtype !== dtype) {
          throw new MigeInputError(`the folder's ONNX export stores ${readOnnxManifest(dir).dtype} weights, not ${dtype}: export again with that dtype, or leave dtype out`, dir);
        }
        if (dir === undefined) {
          tempDir = mkdtempSync(join(tmpdir(), 'mige-onnx-'));
          exportModel(model, tempDir, { dtype: dtype ?? 'fp32' });
          dir = tempDir;
        }
        const providers = executionProviders ?? (await onnxExecutionProviders(device ?? 'cpu', `${where} device`));
        await attachOnnx(model, dir, { executionProviders: [...providers] });
        // Open the sessions now: a provider that cannot run the graphs fails here, not mid-call.
        await attachedOnnxEngine(model);
      }
      return new MigePipeline(model, engine, tempDir);
    } catch (error) {
      await detachOnnx(model);
      model.dispose();
      if (tempDir) rmSync(tempDir, { recursive: true, force: true });
      throw error;
    }
  }

  /** A pipeline over a model you built or loaded yourself (it keeps the model's ONNX attachment, if any). */
  static fromModel(model: MigeModel): MigePipeline {
    if (!(model instanceof MigeModel)) throw new MigeInputError('expected a MigeModel', 'MigePipeline.fromModel');
    return new MigePipeline(model, 'tfjs', undefined);
  }

  /** A flow's defaults for this model: its own (sampling.json) over the reference's. */
  defaults(flow: FlowName): FlowDefaults {
    return modelFlowDefaults(this.model, flow);
  }

  /** Subject-driven generation: one `<imagehere>` per subject image, on a blank canvas. */
  async generate<T extends OutputType = 'rgb'>(args: GenerateArgs<T>): Promise<PipelineOutput<T>> {
    const { instruction, images, outputType, ...options } = args;
    const flow = this.flowOptions(options, outputType);
    return this.run(planGenerate(this.model, { instruction, images }, flow), flow, outputType);
  }

  /** Instruction-based editing of `source`. */
  async edit<T extends OutputType = 'rgb'>(args: EditArgs<T>): Promise<PipelineOutput<T>> {
    const { instruction, source, outputType, ...options } = args;
    const flow = this.flowOptions(options, outputType);
    return this.run(planEdit(this.model, { instruction, source }, flow), flow, outputType);
  }

  /** Instruction-based subject-driven editing: add or replace `subjects` in `source`. */
  async compose<T extends OutputType = 'rgb'>(args: ComposeArgs<T>): Promise<PipelineOutput<T>> {
    const { instruction, source, subjects, sourceSlot, outputType, ...options } = args;
    const flow = this.flowOptions(options, outputType);
    return this.run(planCompose(this.model, { instruction, source, subjects, ...(sourceSlot !== undefined ? { sourceSlot } : {}) }, flow), flow, outputType);
  }

  /** Releases the ONNX sessions, the weights and a temporary export. */
  async dispose(): Promise<void> {
    try {
      await detachOnnx(this.model);
    } finally {
      this.model.dispose();
      if (this.tempDir) rmSync(this.tempDir, { recursive: true, force: true });
    }
  }

  /** Checks a call's options before any work: the output type, and nothing set per pipeline. */
  private flowOptions(flow: Omit<FlowOptions, 'engine' | 'size'>, outputType: OutputType | undefined): FlowOptions {
    if (outputType !== undefined && !OUTPUT_TYPES.includes(outputType)) {
      throw new MigeInputError(`outputType must be one of ${OUTPUT_TYPES.map((t) => `'${t}'`).join(', ')}, got ${JSON.stringify(outputType)}`, 'MigePipeline');
    }
    for (const key of ['engine', 'size'] as const) {
      if (key in flow) throw new MigeInputError(`${key} is set when the pipeline is made (fromPretrained), not per call`, 'MigePipeline');
    }
    return { ...flow, engine: this.engine };
  }

  private async run<T extends OutputType>(plan: FlowPlan, flowOptions: FlowOptions, requested: T | undefined): Promise<PipelineOutput<T>> {
    const outputType: OutputType = requested ?? 'rgb';
    const sampled = await sampleFlow(this.model, plan.flow, plan.items, flowOptions, plan.opts);
    const done = (images: OutputImages[OutputType]): PipelineOutput<T> => ({ images: images as OutputImages[T], params: sampled.params, warnings: sampled.warnings });
    if (outputType === 'latents') return done(sampled.latents);
    let tensor: ImageBatch;
    try {
      tensor = await decodeLatents(sampled.engine, this.model, sampled.latents);
    } finally {
      sampled.latents.dispose();
    }
    if (outputType === 'tensor') return done(tensor);
    let rgb: RgbImage[];
    try {
      rgb = tensorToImages(tensor);
    } finally {
      tensor.dispose();
    }
    if (outputType === 'rgb') return done(rgb);
    return done(await Promise.all(rgb.map((image) => encodeImage(image, 'png'))));
  }
}
