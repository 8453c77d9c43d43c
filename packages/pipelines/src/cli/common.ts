import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { decodeImageDetailed, formatFromPath, initBackend, MigeInputError, onnxExecutionProviders, writeImage, writeTextFileAtomic, type BackendName, type RgbImage } from '@mige/core';
import type { SamplerConfig } from '../diffusion/index.js';
import { flowDefaultsOf, type FlowName, type FlowOptions, type FlowResult } from '../flows/index.js';
import { DEFAULT_MODEL_NAME, loadModel, MIGE_PRESETS, MODEL_FILES, MigeModel, readSamplingDefaults, resolveModelSource, type ModelSource } from '../model/index.js';
import { attachedOnnxEngine, attachOnnx, detachOnnx, loadOnnxModel, MODEL_ONNX_SUBFOLDER, modelOnnxDir } from '../onnx/index.js';
import { choice, num, str, type OptionSpec, type ParsedValues } from './args.js';
import type { CliIo } from './io.js';

export const BACKEND_OPTION: OptionSpec = { backend: { type: 'string' } };
export const BACKEND_HELP = '  --backend <name>      tensorflow-gpu | tensorflow | wasm | cpu (default: the fastest installed; env MIGE_BACKEND)';

export async function startBackend(v: ParsedValues): Promise<void> {
  const backend = choice(v, 'backend', ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'] as const satisfies readonly BackendName[]);
  await initBackend({ ...(backend ? { backend } : {}), log: null });
}

export const MODEL_HELP = `  --model <m>           a MIGE.js model folder (config.json, model.safetensors, tokenizer.json),
                        ${DEFAULT_MODEL_NAME} (the default model, from @mige/model-world), or a preset
                        (${Object.keys(MIGE_PRESETS).join(', ')}) with random weights, for testing; default: ${DEFAULT_MODEL_NAME}
  --init-seed <n>       seed of the random weights of a preset (default 0)`;

/** `--model`: a folder (relative to the working directory), the default model's name, a preset, or (absent) the default model. */
export function modelSourceFromArgs(value: string | undefined): ModelSource {
  return resolveModelSource(value, process.cwd(), '--model');
}

/** `--model`: a model folder, a preset with random weights, or (absent) the default model. */
export async function modelFromArgs(v: ParsedValues, value: string | undefined): Promise<MigeModel> {
  const source = modelSourceFromArgs(value);
  if (source.kind === 'preset') {
    const seed = num(v, 'init-seed', { integer: true, min: 0 }) ?? 0;
    return MigeModel.create(MIGE_PRESETS[source.name], { seed });
  }
  return loadModel(source.dir);
}

/**
 * The model of a flow command, with its folder's ONNX export attached unless `--engine tfjs`:
 * a model folder (or the default model) with an `onnx/` subfolder runs on ONNX Runtime.
 * Release it with releaseFlowModel.
 */
export async function flowModelFromArgs(v: ParsedValues, value: string | undefined): Promise<MigeModel> {
  const engine = choice(v, 'engine', ['tfjs', 'onnx'] as const);
  const device = choice(v, 'device', ['cpu', 'cuda'] as const);
  const source = modelSourceFromArgs(value);
  const dir = source.kind === 'folder' ? source.dir : undefined;
  const onnx = dir === undefined ? undefined : modelOnnxDir(dir);
  if (device !== undefined && engine === 'tfjs') {
    throw new MigeInputError('--device picks ONNX Runtime\'s execution provider and applies to --engine onnx; TF.js runs on its --backend', '--device');
  }
  if ((engine === 'onnx' || device !== undefined) && onnx === undefined) {
    const where = dir === undefined ? `preset ${value}` : join(dir, MODEL_ONNX_SUBFOLDER);
    const flag = engine === 'onnx' ? '--engine onnx' : `--device ${device}`;
    throw new MigeInputError(`${flag} needs the model's ONNX export in ${MODEL_ONNX_SUBFOLDER}/; make it with "mige export --model <dir> --out <dir>/${MODEL_ONNX_SUBFOLDER}"`, where);
  }
  // Checked before the weights load: a provider that is not installed fails at once.
  const executionProviders = onnx !== undefined && engine !== 'tfjs' ? await onnxExecutionProviders(device ?? 'cpu', '--device') : undefined;
  // A folder with only its ONNX export (mige convert --onnx) runs on ONNX Runtime, stage by stage.
  if (dir !== undefined && onnx !== undefined && !existsSync(join(dir, MODEL_FILES.weights))) {
    if (engine === 'tfjs') throw new MigeInputError('holds only an ONNX export (no model.safetensors): run it with --engine onnx, the default', dir);
    return loadOnnxModel(dir, { executionProviders: [...(executionProviders ?? ['cpu'])] });
  }
  const model = await modelFromArgs(v, value);
  try {
    if (onnx !== undefined && executionProviders !== undefined) {
      await attachOnnx(model, onnx, { executionProviders: [...executionProviders] });
      if (device === 'cuda') await attachedOnnxEngine(model);
    }
  } catch (error) {
    await detachOnnx(model);
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
  'reference-latents': { type: 'string' },
  engine: { type: 'string' },
  device: { type: 'string' },
  background: { type: 'string' },
  ...BACKEND_OPTION,
};

/** The defaults the flow commands' help shows: the chosen model's own (sampling.json), else the reference's. */
function helpDefaults(flow: FlowName, modelArg: string | undefined): { text: string; where: string } {
  let source: ModelSource | undefined;
  try {
    source = modelSourceFromArgs(modelArg);
  } catch {
    source = undefined; // help still prints: with the reference's defaults
  }
  const sampling = source?.kind === 'folder' ? readSamplingDefaults(source.dir) : {};
  const d = flowDefaultsOf(sampling, flow);
  const own = sampling[flow] !== undefined;
  const name = modelArg ?? DEFAULT_MODEL_NAME;
  const where = own ? `${name}'s sampling.json` : source === undefined ? `the reference's; ${name} was not found` : `the reference's; ${name} has no sampling.json`;
  const sampler = d.sampler.type === 'dpm-solver' ? `dpm-solver order ${d.sampler.order ?? 2}${d.sampler.maxTimestep !== undefined ? `, from timestep ${d.sampler.maxTimestep}` : ''}` : d.sampler.type;
  return { text: `${d.steps} steps, s_y ${d.scales.y}${flow === 'generate' ? '' : `, s_s ${d.scales.s}`}, ${sampler}`, where };
}

/** The flow commands' shared options, with the defaults of the model `--model` names in `argv` (or the default model). */
export function flowHelp(flow: FlowName, argv: readonly string[]): string {
  const i = argv.findIndex((a) => a === '--model' || a.startsWith('--model='));
  const modelArg = i < 0 ? undefined : argv[i]?.startsWith('--model=') ? argv[i]?.slice('--model='.length) : argv[i + 1];
  const { text, where } = helpDefaults(flow, modelArg);
  return `Defaults for this model (${where}): ${text}.
  --out, -o <file>      output image: .png, .jpg or .webp (default out.png); with -n > 1: out-0.png, out-1.png, ...
                        Each image gets a sidecar JSON (out.json) with the parameters that made it.
  --steps <n>           solver steps
  --scale-y <s>         instruction guidance scale s_y
  --seed <n>            seed of the first image; image k uses seed + k (default 0)
  --num-images, -n <n>  images to make (default 1)
  --sampler <name>      dpm-solver | ddim | ddpm; the flags below change only what they name of the
                        model's sampler of that type
  --order <1|2|3>       DPM-Solver++ order
  --skip-type <t>       DPM-Solver time steps: time_uniform | logSNR | time_quadratic
  --max-timestep <n>    DPM-Solver / DDPM: start at timestep n of 999, from pure noise
  --eta <x>             DDIM noise (default 0)
  --reference-latents <m> how reference images become latents: sample (default, as the reference) | mean
  --background <color>  the colour transparent pixels of input images are composited on:
                        white (default), black, or r,g,b (0-255 each)
  --engine <e>          where the networks run: tfjs | onnx (ONNX Runtime over the model folder's
                        ${MODEL_ONNX_SUBFOLDER}/ export, made by "mige export"); default: onnx when the folder has one
  --device <d>          ONNX Runtime's device: cpu (default) | cuda (its CUDA provider; needs the onnx engine)
${MODEL_HELP}
${BACKEND_HELP}`;
}

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
  const referenceLatents = choice(v, 'reference-latents', ['sample', 'mean'] as const);
  const sampler = samplerFromArgs(v);
  const engine = choice(v, 'engine', ['tfjs', 'onnx'] as const);
  const bar = io.stderr.isTTY === true;
  return {
    ...(steps !== undefined ? { steps } : {}),
    ...(y !== undefined || s !== undefined ? { scales: { ...(y !== undefined ? { y } : {}), ...(s !== undefined ? { s } : {}) } } : {}),
    ...(seed !== undefined ? { seed } : {}),
    ...(numImages !== undefined ? { numImages } : {}),
    ...(referenceLatents ? { referenceLatents } : {}),
    ...(sampler ? { sampler } : {}),
    ...(engine ? { engine } : {}),
    onStep: (step, total) => {
      if (bar) io.stderr.write(`\rsampling step ${step}/${total}${step === total ? '\n' : ''}`);
    },
  };
}

const NAMED_COLOURS: Record<string, [number, number, number]> = { white: [255, 255, 255], black: [0, 0, 0] };

/** `--background`: white (default), black or r,g,b. */
export function backgroundArg(v: ParsedValues): { rgb: [number, number, number]; name: string } {
  const s = str(v, 'background') ?? 'white';
  const named = NAMED_COLOURS[s.toLowerCase()];
  if (named) return { rgb: named, name: s.toLowerCase() };
  const parts = s.split(',').map((p) => p.trim());
  const rgb = parts.map(Number);
  if (parts.length !== 3 || rgb.some((c, i) => parts[i] === '' || !Number.isInteger(c) || c < 0 || c > 255)) {
    throw new MigeInputError(`must be white, black or r,g,b with integers 0-255, got "${s}"`, '--background');
  }
  return { rgb: rgb as [number, number, number], name: `rgb(${rgb.join(', ')})` };
}

/** How an input image is fitted to the model's square: the edit source and compose images crop, generate's subjects pad. */
export type ImageFit = 'crop' | 'pad';

/**
 * Reads an input image (a path relative to the working directory): transparent pixels are
 * composited on `--background` (white by default), with one notice line on stderr saying so.
 */
export async function readImageArg(path: string, option: string, context: { v: ParsedValues; io: CliIo }): Promise<RgbImage> {
  const label = `${option} ${path}`;
  const background = backgroundArg(context.v);
  let decoded;
  try {
    decoded = await decodeImageDetailed(path, { label, background: background.rgb });
  } catch (e) {
    if (e instanceof MigeInputError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new MigeInputError(code === 'ENOENT' ? 'file not found' : e instanceof Error ? e.message : String(e), label);
  }
  if (decoded.composited) {
    const share = ((100 * decoded.transparentPixels) / (decoded.image.width * decoded.image.height)).toFixed(0);
    context.io.stderr.write(`notice: ${label}: ${share}% of its pixels are transparent; composited on ${background.name} (--background to change)\n`);
  }
  return decoded.image;
}

/** One notice per input image that is not the model's size: what the flow will do to it. */
export function noticeResize(io: CliIo, label: string, image: RgbImage, size: number, fit: ImageFit): void {
  const { width: w, height: h } = image;
  if (w === size && h === size) return;
  const what =
    fit === 'crop'
      ? w === h
        ? `resized to ${size}×${size}`
        : `resized (short side to ${size}) and centre-cropped to ${size}×${size}, losing its ${w > h ? 'left and right' : 'top and bottom'} edges`
      : w === h
        ? `resized to ${size}×${size}`
        : `resized (long side to ${size}) and padded to ${size}×${size} with black`;
  io.stderr.write(`notice: ${label} is ${w}×${h}; the model works at ${size}×${size}: it is ${what}\n`);
}

/** out.png → [out.png] or [out-0.png, out-1.png, …], each with a sidecar .json; atomic writes. */
export async function writeResults(result: FlowResult, out: string, io: CliIo): Promise<string[]> {
  const ext = extname(out) || '.png';
  const stem = join(dirname(out), basename(out, extname(out)));
  await mkdir(dirname(resolve(out)), { recursive: true });
  const paths: string[] = [];
  const many = result.images.length > 1;
  for (let i = 0; i < result.images.length; i++) {
    const img = result.images[i];
    if (!img) continue;
    const base = many ? `${stem}-${i}` : stem;
    await writeImage(`${base}${ext}`, img.image);
    writeTextFileAtomic(`${base}.json`, `${JSON.stringify(img.params, null, 2)}\n`);
    paths.push(`${base}${ext}`);
    io.stdout.write(`${base}${ext}\n`);
  }
  for (const w of result.warnings) io.stderr.write(`warning: ${w}\n`);
  result.tensor.dispose();
  return paths;
}

/** `--out` (default out.png), its format checked from the extension before any work. */
export function outArg(v: ParsedValues): string {
  const out = str(v, 'out') ?? 'out.png';
  if (extname(out) === '') return `${out}.png`;
  try {
    formatFromPath(out);
  } catch {
    throw new MigeInputError(`cannot write "${basename(out)}": outputs are .png, .jpg / .jpeg or .webp`, '--out');
  }
  return out;
}
