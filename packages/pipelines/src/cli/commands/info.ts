import { getBackendInfo } from '@mige/core';
import { DEFAULT_MODEL_NAME, DEFAULT_MODEL_PACKAGE, hasDefaultModel } from '../../model/index.js';
import { parse, str } from '../args.js';
import { BACKEND_HELP, BACKEND_OPTION, MODEL_HELP, modelFromArgs, startBackend } from '../common.js';
import type { Command } from '../io.js';

function millions(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(1)}M` : n.toLocaleString('en-US');
}

export const infoCommand: Command = {
  name: 'info',
  summary: 'the backend in use, and a model (default: the default model): sizes and parameter counts',
  help: `Usage: mige info [--model <m>] [--json]

${MODEL_HELP}
  --json                print JSON instead of text
${BACKEND_HELP}`,
  async run(argv, io) {
    const v = parse(argv, { model: { type: 'string' }, 'init-seed': { type: 'string' }, json: { type: 'boolean' }, ...BACKEND_OPTION });
    await startBackend(v);
    const backend = getBackendInfo();
    const modelArg = str(v, 'model');
    const info: Record<string, unknown> = { backend: backend ? { name: backend.name, reason: backend.reason } : null, node: process.version };
    const missingDefault = modelArg === undefined && !hasDefaultModel();
    if (missingDefault) info.model = null;
    else {
      const model = await modelFromArgs(v, modelArg);
      try {
        const c = model.config;
        info.model = {
          name: c.name,
          imageSize: c.imageSize,
          latentSize: model.latentSize(),
          backbone: `${c.backbone.type}${typeof c.backbone.depth === 'number' ? ` depth ${c.backbone.depth}` : ''} hidden ${c.backbone.hiddenSize}`,
          fusion: c.fusion.type,
          maxLength: c.encoder.maxLength,
          parameters: model.parameterCounts(),
        };
      } finally {
        model.dispose();
      }
    }
    if (v.json === true) {
      io.stdout.write(`${JSON.stringify(info, null, 2)}\n`);
      return;
    }
    io.stdout.write(`backend: ${backend?.name ?? 'none'} (${backend?.reason ?? ''})\nnode: ${process.version}\n`);
    const m = info.model as { name: string; imageSize: number; latentSize: number; backbone: string; fusion: string; maxLength: number; parameters: Record<string, number> } | undefined;
    if (missingDefault) io.stdout.write(`model: none given, and the default model (${DEFAULT_MODEL_NAME}) is not installed: npm install ${DEFAULT_MODEL_PACKAGE}\n`);
    if (m) {
      io.stdout.write(`model: ${m.name}, ${m.imageSize} px (latents ${m.latentSize}×${m.latentSize}), ${m.backbone}, fusion ${m.fusion}, condition length ${m.maxLength}\n`);
      io.stdout.write(`parameters: ${Object.entries(m.parameters).map(([k, n]) => `${k} ${millions(n)}`).join(', ')}\n`);
    }
  },
};
