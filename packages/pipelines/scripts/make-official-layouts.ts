/**
 * Writes what test/data/official/gen_official_layouts.py needs beside micro-state.safetensors:
 * the micro model's VAE (diffusers names, seed 8) as test/data/official/micro-vae.safetensors
 * and its diffusers config.json into test/data/official/vae/. Run: npx tsx scripts/make-official-layouts.ts
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initBackend, writeSafetensors, writableFromTensors } from '@mige/core';
import { toDiffusersVaeConfig } from '@mige/vae';
import { MigeModel, parseMigeConfig } from '../src/model/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', 'test', 'data');
await initBackend({ backend: 'cpu', log: null });
const configPath = join(root, 'model', 'micro-config.json');
const config = parseMigeConfig(JSON.parse(readFileSync(configPath, 'utf8')), configPath);
const model = MigeModel.create(config, { seed: 8 });
const out = join(root, 'official');
mkdirSync(join(out, 'vae'), { recursive: true });
writeSafetensors(join(out, 'micro-vae.safetensors'), writableFromTensors(model.vae.stateDict()), { source: 'scripts/make-official-layouts.ts', seed: '8' });
writeFileSync(join(out, 'vae', 'config.json'), `${JSON.stringify(toDiffusersVaeConfig(config.vae), null, 2)}\n`);
console.log(`wrote ${model.vae.stateDict().size} VAE tensors`);
