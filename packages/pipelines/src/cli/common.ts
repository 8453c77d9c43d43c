import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { decodeImage, initBackend, MigeInputError, writeImage, writeTextFileAtomic, type BackendName, type RgbImage } from '@mige/core';
import type { SamplerConfig } from '../diffusion/index.js';
import type { FlowOptions, FlowResult } from '../flows/index.js';
import { defaultModelDir, loadDefaultModel, loadModel, MIGE_PRESETS, MODEL_FILES, MigeModel } from '../model/index.js';
import { attachOnnx, detachOnnx, loadOnnxModel, MODEL_ONNX_SUBFOLDER, modelOnnxDir } from '../onnx/index.js';
import { choice, num, str, type OptionSpec, type ParsedValues } from './args.js';
import type { CliIo } from './io.js';

export const BACKEND_OPTION: OptionSpec = { backend: { type: 'string' } };
export const BACKEND_HELP = '  --backend <name>      tensorflow-gpu | tensorflow | wasm | cpu (default: the fastest installed; env MIGE_BACKEND)';

export async function startBackend(v: ParsedValues): Promise<void> {
  const backend = choice(v, 'backend', ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'] as const satisfies readonly BackendName[]);
  await initBackend({ ...(backend ? { backend } : {}), log: null });
}

export const MODEL_HELP = `  --model <dir|preset>  a MIGE.js model folder (config.json, model.safetensors, tokenizer.json),
                        or a preset name (${Object.keys(MIGE_PRESETS).join(', ')}) for random weights (testing);
                        default: the shipped default model (mige-world, 64 px)
  --init-seed <n>       seed of the random weights of a preset (default 0)`;

/** `--model`: a model folder, a preset with random weights, or (absent) the default model. */
export async function modelFromArgs(v: ParsedValues, value: string | undefined): Promise<MigeModel> {
  if (value === undefined) return loadDefaultModel();
  if (value in MIGE_PRESETS) {
    const seed = num(v, 'init-seed', { integer: true, min: 0 }) ?? 0;
    return MigeModel.create(MIGE_PRESETS[value as keyof typeof MIGE_PRESETS], { seed });
  }
  return loadModel(value);
}

/**
 * The model of a flow command, with its folder's ONNX export attached unless `--engine tfjs`:
 * a model folder (or the default model) with an `onnx/` subfolder runs on ONNX Runtime.
 * Release it with releaseFlowModel.
 */
export async function flowModelFromArgs(v: ParsedValues, value: string | undefined): Promise<MigeModel> {
  const engine = choice(v, 'engine', ['tfjs', 'onnx'] as const);
  const device = choice(v, 'device', ['cpu', 'cuda'] as const);
  if (device === 'cuda' && engine === 'tfjs') throw new MigeInputError('applies to --engine onnx', '--device cuda');
  const sessions = device === 'cuda' ? { executionProviders: [{ name: 'cuda' }, 'cpu'] } : {};
  const dir = value === undefined ? defaultModelDir() : value in MIGE_PRESETS ? undefined : value;
  const onnx = dir === undefined ? undefined : modelOnnxDir(dir);
  if (engine === 'onnx' && onnx === undefined) {
    const where = dir === undefined ? `preset ${value}` : join(dir, MODEL_ONNX_SUBFOLDER);
    throw new MigeInputError(`--engine onnx needs the model's ONNX export in ${MODEL_ONNX_SUBFOLDER}/; make it with "mige export --model <dir> --out <dir>/${MODEL_ONNX_SUBFOLDER}"`, where);
  }
  // A folder with only its ONNX export (mige convert --onnx) runs on ONNX Runtime, stage by stage.
  if (dir !== undefined && onnx !== undefined && !existsSync(join(dir, MODEL_FILES.weights))) {
    if (engine === 'tfjs') throw new MigeInputError('holds only an ONNX export (no model.safetensors): run it with --engine onnx, the default', dir);
    return loadOnnxModel(dir, sessions);
  }
  const model = await modelFromArgs(v, value);
  try {
    if (onnx !== undefined && engine !== 'tfjs') await attachOnnx(model, onnx, sessions);
  } catch (error) {
    model.dispose();
    throw error;
  }
  return model;
}

/** Releases the ONNX sessions (if any) and the weights of a flowModelFromArgs model. */
export async function releaseFlowModel(model: MigeModel): Promise<void> {
  try {
    await detachOnnx(model);
  } finally {
    model.dispose();
  }
}

export const FLOW_OPTIONS: OptionSpec = {
  model: { type: 'string' },
  'init-seed': { type: 'string' },
  instruction: { type: 'string', short: 'i' },
  out: { type: 'string', short: 'o' },
  steps: { type: 'string' },
  'scale-y': { type: 'string' },
  'scale-s': { type: 'string' },
  seed: { type: 'string' },
  'num-images': { type: 'string', short: 'n' },
  sampler: { type: 'string' },
  order: { type: 'string' },
  'skip-type': { type: 'string' },
  'max-timestep': { type: 'string' },
  eta: { type: 'string' },
  latents: { type: 'string' },
  engine: { type: 'string' },
  device: { type: 'string' },
  ...BACKEND_OPTION,
};

export const FLOW_HELP = `  --out, -o <file.png>  output image (default out.png); with -n > 1: out-0.png, out-1.png, ...
                        Each image gets a sidecar JSON (out.json) with the parameters that made it.
  --steps <n>           solver steps (default: the reference's, 50 generate / 60 edit, compose)
  --scale-y <s>         instruction guidance scale s_y (default 7 generate / 5 edit, compose)
  --seed <n>            seed of the first image; image k uses seed + k (default 0)
  --num-images, -n <n>  images to make (default 1)
  --sampler <name>      dpm-solver | ddim | ddpm (default: the model's, else dpm-solver); the
                        flags below change only what they name of the model's sampler of that type
  --order <1|2|3>       DPM-Solver++ order (default 2)
  --skip-type <t>       DPM-Solver time steps: time_uniform (default) | logSNR | time_quadratic
  --max-timestep <n>    DPM-Solver / DDPM: start at timestep n of 999 (default 999), from pure noise
  --eta <x>             DDIM noise (default 0)
  --latents <m>         reference-image latents: sample (default, as the reference) | mean
  --engine <e>          where the networks run: tfjs | onnx (ONNX Runtime over the model folder's
                        ${MODEL_ONNX_SUBFOLDER}/ export, made by "mige export"); default: onnx when the folder has one
  --device <d>          ONNX Runtime's device: cpu (default) | cuda (needs a CUDA build of onnxruntime-node)
${MODEL_HELP}
${BACKEND_HELP}`;

/**
 * The sampler flags as a SamplerConfig naming only what was given (the flows fill the rest from
 * the model's sampler of that type, else the sampler's defaults); undefined without any flag.
 */
export function samplerFromArgs(v: ParsedValues): SamplerConfig | undefined {
  const type = choice(v, 'sampler', ['dpm-solver', 'ddim', 'ddpm'] as const);
  const order = num(v, 'order', { integer: true, min: 1, max: 3 }) as 1 | 2 | 3 | undefined;
  const skipType = choice(v, 'skip-type', ['time_uniform', 'logSNR', 'time_quadratic'] as const);
  const maxTimestep = num(v, 'max-timestep', { integer: true, min: 1, max: 999 });
  const eta = num(v, 'eta', { min: 0 });
  if (type === undefined && order === undefined && skipType === undefined && maxTimestep === undefined && eta === undefined) return undefined;
  const start = maxTimestep !== undefined ? { maxTimestep } : {};
  if ((type ?? 'dpm-solver') === 'dpm-solver') {
    if (eta !== undefined) throw new MigeInputError('only applies to --sampler ddim', '--eta');
    return { type: 'dpm-solver', ...(order !== undefined ? { order } : {}), ...(skipType ? { skipType } : {}), ...start };
  }
  if (order !== undefined || skipType !== undefined) throw new MigeInputError('--order and --skip-type only apply to --sampler dpm-solver', '--sampler');
  if (type === 'ddim') {
    if (maxTimestep !== undefined) throw new MigeInputError('only applies to --sampler dpm-solver or ddpm', '--max-timestep');
    return { type: 'ddim', ...(eta !== undefined ? { eta } : {}) };
  }
  if (eta !== undefined) throw new MigeInputError('only applies to --sampler ddim', '--eta');
  return { type: 'ddpm', ...start };
}

export function flowOptionsFromArgs(v: ParsedValues, io: CliIo): FlowOptions {
  const steps = num(v, 'steps', { integer: true, min: 1 });
  const y = num(v, 'scale-y');
  const s = num(v, 'scale-s');
  const seed = num(v, 'seed', { integer: true, min: 0 });
  const numImages = num(v, 'num-images', { integer: true, min: 1 });
  const latents = choice(v, 'latents', ['sample', 'mean'] as const);
  const sampler = samplerFromArgs(v);
  const engine = choice(v, 'engine', ['tfjs', 'onnx'] as const);
  const bar = io.stderr.isTTY === true;
  return {
    ...(steps !== undefined ? { steps } : {}),
    ...(y !== undefined || s !== undefined ? { scales: { ...(y !== undefined ? { y } : {}), ...(s !== undefined ? { s } : {}) } } : {}),
    ...(seed !== undefined ? { seed } : {}),
    ...(numImages !== undefined ? { numImages } : {}),
    ...(latents ? { latents } : {}),
    ...(sampler ? { sampler } : {}),
    ...(engine ? { engine } : {}),
    onStep: (step, total) => {
      if (bar) io.stderr.write(`\rsampling step ${step}/${total}${step === total ? '\n' : ''}`);
    },
  };
}

export async function readImageArg(path: string, option: string): Promise<RgbImage> {
  try {
    return await decodeImage(path, { label: `${option} ${path}` });
  } catch (e) {
    if (e instanceof MigeInputError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new MigeInputError(code === 'ENOENT' ? 'file not found' : e instanceof Error ? e.message : String(e), `${option} ${path}`);
  }
}

/** out.png → [out.png] or [out-0.png, out-1.png, …], each with a sidecar .json; atomic writes. */
export async function writeResults(result: FlowResult, out: string, io: CliIo): Promise<string[]> {
  const ext = extname(out) || '.png';
  if (ext.toLowerCase() !== '.png') throw new MigeInputError(`outputs are PNG: use a .png file name, got "${basename(out)}"`, '--out');
  const stem = join(dirname(out), basename(out, extname(out)));
  await mkdir(dirname(resolve(out)), { recursive: true });
  const paths: string[] = [];
  const many = result.images.length > 1;
  for (let i = 0; i < result.images.length; i++) {
    const img = result.images[i];
    if (!img) continue;
    const base = many ? `${stem}-${i}` : stem;
    await writeImage(`${base}.png`, img.image);
    writeTextFileAtomic(`${base}.json`, `${JSON.stringify(img.params, null, 2)}\n`);
    paths.push(`${base}.png`);
    io.stdout.write(`${base}.png\n`);
  }
  for (const w of result.warnings) io.stderr.write(`warning: ${w}\n`);
  result.tensor.dispose();
  return paths;
}

export function outArg(v: ParsedValues): string {
  return str(v, 'out') ?? 'out.png';
}
