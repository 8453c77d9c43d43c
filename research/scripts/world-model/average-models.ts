/**
 * Averages the weights of model folders that share one architecture (a "model soup" of
 * fine-tunes from one init), writing a new model folder with the first one's config, sampling
 * and tokenizer (`--sampling '{...}'` sets the sampling instead, as checkpoint-to-model's does).
 * Frozen parts, equal in every folder, stay as they are, bit for bit.
 *
 *   npx tsx ../../research/scripts/world-model/average-models.ts --models a,b [--weights 0.5,0.5] [--sampling JSON] --out dir
 */
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MigeInputError, parseSafetensors, writeSafetensors, writeTextFileAtomic, type TensorData, type WritableTensor } from '@mige/core';
import { MODEL_FILES, parseSamplingDefaults, readModelConfig, SAMPLING_FILE } from '../../../packages/pipelines/src/model/index.js';
import { args } from '../../../packages/pipelines/scripts/world-model/common.js';
import { writableFromData } from './derived-model.js';

const a = args({ models: '', weights: '', out: '', sampling: '' });
const dirs = a.models.split(',').filter(Boolean);
if (dirs.length < 2 || !a.out) throw new MigeInputError('give --models a,b[,...] and --out', 'average-models');
const weights = a.weights ? a.weights.split(',').map(Number) : dirs.map(() => 1 / dirs.length);
if (weights.length !== dirs.length || weights.some((w) => !Number.isFinite(w))) throw new MigeInputError(`--weights needs ${dirs.length} numbers, got "${a.weights}"`, 'average-models');
const config = JSON.stringify(readModelConfig(join(dirs[0] as string, MODEL_FILES.config)));
for (const d of dirs.slice(1)) {
  if (JSON.stringify(readModelConfig(join(d, MODEL_FILES.config))) !== config) throw new MigeInputError(`its config differs from ${dirs[0]}'s: only one architecture can be averaged`, join(d, MODEL_FILES.config));
}
const parsed = dirs.map((d) => parseSafetensors(readFileSync(join(d, MODEL_FILES.weights)), { where: join(d, MODEL_FILES.weights) }));
const files = parsed.map((p) => p.tensors);
const first = files[0] as Map<string, TensorData>;
const out = new Map<string, WritableTensor>();
for (const [name, t0] of first) {
  const parts = files.map((f, i) => {
    const t = f.get(name);
    if (!t || t.shape.join() !== t0.shape.join() || t.dtype !== t0.dtype) throw new MigeInputError(`tensor ${name} is missing or differs in shape or dtype`, join(dirs[i] as string, MODEL_FILES.weights));
    return t;
  });
  // Integers, and tensors equal in every folder (the frozen VAE and ViT), are kept bit for bit.
  if (t0.dtype !== 'float32' || parts.every((t) => t.data.every((v, k) => v === t0.data[k]))) {
    out.set(name, writableFromData(t0));
    continue;
  }
  const data = new Float32Array(t0.data.length);
  parts.forEach((t, i) => {
    const w = weights[i] as number;
    for (let k = 0; k < data.length; k++) data[k] = (data[k] as number) + w * (t.data[k] as number);
  });
  out.set(name, { dtype: 'F32', shape: t0.shape, data });
}
for (const [i, f] of files.entries()) if (f.size !== first.size) throw new MigeInputError(`has ${f.size} tensors, the first model ${first.size}`, dirs[i] as string);
mkdirSync(a.out, { recursive: true });
for (const f of [MODEL_FILES.config, MODEL_FILES.tokenizer]) copyFileSync(join(dirs[0] as string, f), join(a.out, f));
if (a.sampling) writeTextFileAtomic(join(a.out, SAMPLING_FILE), `${JSON.stringify(parseSamplingDefaults(JSON.parse(a.sampling), '--sampling'), null, 2)}\n`);
else copyFileSync(join(dirs[0] as string, SAMPLING_FILE), join(a.out, SAMPLING_FILE));
writeSafetensors(join(a.out, MODEL_FILES.weights), out, parsed[0]?.metadata);
console.log(`${a.out}: ${out.size} tensors, weights ${weights.join(', ')} of ${dirs.join(', ')}`);
