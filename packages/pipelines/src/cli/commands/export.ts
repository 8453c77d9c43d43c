import { join } from 'node:path';
import { exportModel, MODEL_ONNX_SUBFOLDER, ONNX_MANIFEST_FILE } from '../../onnx/index.js';
import { flag, parse, required, str } from '../args.js';
import { BACKEND_HELP, BACKEND_OPTION, MODEL_HELP, modelFromArgs, startBackend } from '../common.js';
import type { Command } from '../io.js';

export const exportCommand: Command = {
  name: 'export',
  summary: 'export a model to ONNX (one graph per component) for ONNX Runtime',
  help: `Usage: mige export [--model <dir|preset>] --out <dir> [--fp16]

Writes the model's components as ONNX graphs (vae-encoder, vae-decoder, dit, vit, qformer, ffm,
t5-proj, t5-encoder) and manifest.json into --out, each file atomically, the manifest last.
Exported into <model dir>/${MODEL_ONNX_SUBFOLDER}, the flow commands (generate, edit, compose) use ONNX Runtime
for that model by default (--engine tfjs to opt out).
  --out, -o <dir>       the folder to write, e.g. <model dir>/${MODEL_ONNX_SUBFOLDER}
  --fp16                store the weights in half precision (half the size; the graphs compute in float32)
${MODEL_HELP}
${BACKEND_HELP}`,
  async run(argv, io) {
    const v = parse(argv, { model: { type: 'string' }, 'init-seed': { type: 'string' }, out: { type: 'string', short: 'o' }, fp16: { type: 'boolean' }, ...BACKEND_OPTION });
    const out = required(v, 'out');
    await startBackend(v);
    const model = await modelFromArgs(v, str(v, 'model'));
    try {
      const manifest = exportModel(model, out, { dtype: flag(v, 'fp16') ? 'fp16' : 'fp32' });
      for (const [name, entry] of Object.entries(manifest.components)) {
        io.stdout.write(`${name.padEnd(12)} ${entry.file} (${(entry.bytes / 2 ** 20).toFixed(2)} MiB${entry.dataFile ? ` + ${entry.dataFile}` : ''}, ${entry.nodes} nodes)\n`);
      }
      io.stdout.write(`${join(out, ONNX_MANIFEST_FILE)} (${manifest.dtype} weights)\n`);
    } finally {
      model.dispose();
    }
  },
};
