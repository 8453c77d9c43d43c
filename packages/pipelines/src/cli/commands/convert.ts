import { existsSync, readFileSync } from 'node:fs';
import { MigeInputError } from '@mige/core';
import { convertCheckpoint, isMigePresetName, MIGE_PRESETS, openCheckpointWeights, parseMigeConfig, saveModel, type MigeConfig } from '../../model/index.js';
import { convertToOnnx } from '../../onnx/index.js';
import { formatDuration } from '../../train/progress-log.js';
import { flag, num, parse, required, str } from '../args.js';
import { BACKEND_HELP, BACKEND_OPTION, startBackend } from '../common.js';
import type { CliIo, Command } from '../io.js';

export const convertCommand: Command = {
  name: 'convert',
  summary: 'official / diffusers / HF / LAVIS weights → one MIGE.js model folder',
  help: `Usage: mige convert --config <preset|config.json> --out <dir> [weights...]

Builds one MIGE.js model folder (config.json, model.safetensors, tokenizer.json) from:
  --mige <model.pth>    MIGE's checkpoint (everything but the VAE)
  --pixart <path>       PixArt-α: diffusers transformer folder, or .pth / .safetensors
  --t5 <dir>            an HF T5 (encoder) folder
  --blip2 <file>        BLIP-2 weights (LAVIS or HF names): ln_vision, Q-Former, query tokens
  --eva <file>          EVA ViT-g weights (eva_vit_g.pth)
  --vae <dir>           a diffusers AutoencoderKL folder (sd-vae-ft-ema)
  --tokenizer <file>    tokenizer.json or spiece.model (default: the shipped one for mige-tiny)
  --config <c>          ${Object.keys(MIGE_PRESETS).join(' | ')} | a MigeConfig JSON file
  --out <dir>           the model folder to write (atomically)
  --onnx                write the model as ONNX only (onnx/ beside config.json and tokenizer.json),
                        streaming each tensor from the pieces to the export without loading the
                        model: memory is one tensor, so official sizes convert (T5-XXL: 19 GB).
                        The flow commands run such a folder on ONNX Runtime, one stage at a time.
  --fp16                with --onnx: store the weights in half precision (computed in float32)
  --t5-blocks <n>       with --onnx: T5 blocks per graph (default: whole below 2 GiB, else 1 GiB parts)
Every tensor must come from some piece; what is missing is listed by name.
${BACKEND_HELP}`,
  async run(argv, io) {
    const v = parse(argv, {
      config: { type: 'string' }, out: { type: 'string', short: 'o' }, mige: { type: 'string' }, pixart: { type: 'string' }, t5: { type: 'string' },
      blip2: { type: 'string' }, eva: { type: 'string' }, vae: { type: 'string' }, tokenizer: { type: 'string' }, onnx: { type: 'boolean' }, fp16: { type: 'boolean' },
      't5-blocks': { type: 'string' }, ...BACKEND_OPTION,
    });
    const config = configArg(required(v, 'config'));
    const out = required(v, 'out');
    const pieces = ['mige', 'pixart', 't5', 'blip2', 'eva', 'vae', 'tokenizer'] as const;
    const sources: Record<string, string> = {};
    for (const p of pieces) {
      const path = str(v, p);
      if (path === undefined) continue;
      if (!existsSync(path)) throw new MigeInputError('file not found', `--${p} ${path}`);
      sources[p] = path;
    }
    if (!pieces.some((p) => p !== 'tokenizer' && sources[p])) throw new MigeInputError('give at least one weights source (--mige, --pixart, --t5, --blip2, --eva, --vae)', 'convert');
    const t5Blocks = num(v, 't5-blocks', { integer: true, min: 1 });
    if (!flag(v, 'onnx') && (flag(v, 'fp16') || t5Blocks !== undefined)) throw new MigeInputError('--fp16 and --t5-blocks apply to --onnx', 'convert');
    await startBackend(v);
    if (flag(v, 'onnx')) {
      await convertOnnx({ config, ...sources }, out, flag(v, 'fp16'), t5Blocks, io);
      return;
    }
    const model = convertCheckpoint({ config, ...sources });
    try {
      await saveModel(model, out);
      io.stdout.write(`${out}\n`);
    } finally {
      model.dispose();
    }
  },
};

/** --onnx: the pieces streamed into an ONNX-only model folder, with progress on stderr and Ctrl-C stopping cleanly. */
async function convertOnnx(sources: Parameters<typeof openCheckpointWeights>[0], out: string, fp16: boolean, t5Blocks: number | undefined, io: CliIo): Promise<void> {
  const controller = new AbortController();
  const onSigint = (): void => controller.abort();
  process.once('SIGINT', onSigint);
  let shown = 0;
  try {
    const manifest = await convertToOnnx(openCheckpointWeights(sources), out, {
      dtype: fp16 ? 'fp16' : 'fp32',
      ...(t5Blocks !== undefined ? { t5BlocksPerGraph: t5Blocks } : {}),
      signal: controller.signal,
      onProgress: (e) => {
        // A line every 10 s at most: the tensor count, and the time left.
        if (e.step < e.total && e.elapsedMs - shown < 10_000) return;
        shown = e.elapsedMs;
        io.stderr.write(`convert: ${e.step}/${e.total} tensors, ${formatDuration(e.elapsedMs / 1000)} elapsed, ${formatDuration(e.etaMs / 1000)} left\n`);
      },
    });
    io.stdout.write(`${out} (${Object.keys(manifest.components).length} ONNX components, ${manifest.dtype} weights)\n`);
  } finally {
    process.off('SIGINT', onSigint);
  }
}

function configArg(value: string): MigeConfig {
  if (isMigePresetName(value)) return MIGE_PRESETS[value];
  if (!existsSync(value)) throw new MigeInputError(`not a preset (${Object.keys(MIGE_PRESETS).join(', ')}) and no such file`, `--config ${value}`);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(value, 'utf8'));
  } catch (e) {
    throw new MigeInputError(`not valid JSON: ${e instanceof Error ? e.message : String(e)}`, `--config ${value}`);
  }
  // A model folder's config.json wraps the config; a bare MigeConfig is accepted too.
  const inner = typeof json === 'object' && json !== null && 'config' in json ? (json as { config: unknown }).config : json;
  return parseMigeConfig(inner, value);
}
