/**
 * Writes test/data/model/micro-state.safetensors: the official-name state dict (no VAE) of a
 * MigeModel built from micro-config.json with seed 7. scripts/make-model-fixture-pth.py turns
 * it into MIGE-style model.pth files. Run: npx tsx scripts/make-model-fixture.ts
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initBackend, writeSafetensors, type WritableTensor } from '@mige/core';
import { MigeModel, parseMigeConfig } from '../src/model/index.js';

const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'test', 'data', 'model');
await initBackend({ backend: 'cpu', log: null });
const configPath = join(dir, 'micro-config.json');
const model = MigeModel.create(parseMigeConfig(JSON.parse(readFileSync(configPath, 'utf8')), configPath), { seed: 7 });
const tensors = new Map<string, WritableTensor>();
for (const [k, t] of model.stateDict()) {
  tensors.set(k, t.dtype === 'int32' ? { dtype: 'I32', shape: [...t.shape], data: t.dataSync() as Int32Array } : { dtype: 'F32', shape: [...t.shape], data: t.dataSync() as Float32Array });
}
writeSafetensors(join(dir, 'micro-state.safetensors'), tensors, { source: 'scripts/make-model-fixture.ts', seed: '7' });
console.log(`wrote ${tensors.size} tensors, ${model.parameterCounts().total - model.parameterCounts().vae} parameters`);
