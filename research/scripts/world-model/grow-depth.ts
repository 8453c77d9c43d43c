/**
 * Deepens a model's DiT without changing what it computes: after every `--every`-th block (1:
 * each block, doubling the depth; 2: every second one, 12 → 18) it inserts a copy whose output
 * projections (attn.proj, cross_attn.proj, mlp.fc2) are zero, so the new block adds nothing to the
 * residual stream until training moves them (progressive stacking). The rest of the model is
 * copied bit for bit; training then continues with `mige train --model <out>`.
 *
 *   npx tsx ../../research/scripts/world-model/grow-depth.ts --model ../model-world --out dir [--every 2]
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MigeInputError, parseSafetensors, type WritableTensor } from '@mige/core';
import { isDitConfig, MODEL_FILES, readModelConfig } from '../../../packages/pipelines/src/model/index.js';
import { args } from '../../../packages/pipelines/scripts/world-model/common.js';
import { writableFromData, writeDerivedModel } from './derived-model.js';

const a = args({ model: '', out: '', every: '1' });
if (!a.model || !a.out) throw new MigeInputError('give --model dir and --out dir', 'grow-depth');
const every = Number(a.every);
if (!Number.isInteger(every) || every < 1) throw new MigeInputError(`--every must be a whole number ≥ 1, got "${a.every}"`, 'grow-depth');
const configPath = join(a.model, MODEL_FILES.config);
const config = readModelConfig(configPath);
const backbone = config.backbone;
if (!isDitConfig(backbone)) throw new MigeInputError('grow-depth works on DiT backbones', configPath);
const depth = backbone.depth;
const weightsPath = join(a.model, MODEL_FILES.weights);
const parsed = parseSafetensors(readFileSync(weightsPath), { where: weightsPath });
if (!parsed.tensors.has(`blocks.${depth - 1}.attn.proj.weight`) || parsed.tensors.has(`blocks.${depth}.attn.proj.weight`)) {
  throw new MigeInputError(`does not hold exactly the ${depth} DiT blocks its config.json gives`, weightsPath);
}
const ZEROED = /^(attn\.proj|cross_attn\.proj|mlp\.fc2)\.(weight|bias)$/;
// Old block i lands at newIndex(i); a copy follows it when (i + 1) % every === 0.
const newIndex = (i: number): number => i + Math.floor(i / every);
const grownDepth = depth + Math.floor(depth / every);
const out = new Map<string, WritableTensor>();
for (const [name, t] of parsed.tensors) {
  const tensor = writableFromData(t);
  const m = /^blocks\.(\d+)\.(.+)$/.exec(name);
  if (!m) {
    out.set(name, tensor);
    continue;
  }
  const i = Number(m[1]);
  const rest = m[2] as string;
  out.set(`blocks.${newIndex(i)}.${rest}`, tensor);
  if ((i + 1) % every === 0) {
    out.set(`blocks.${newIndex(i) + 1}.${rest}`, ZEROED.test(rest) ? { ...tensor, data: new Float32Array(t.data.length) } : tensor);
  }
}
const grown = { ...config, backbone: { ...config.backbone, depth: grownDepth } };
writeDerivedModel(a.model, a.out, out, parsed.metadata, grown);
console.log(`${a.out}: DiT depth ${depth} → ${grownDepth}, ${out.size} tensors`);
