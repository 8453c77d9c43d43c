/**
 * Stage 3 prep: a MIGE-world model with the trained VAE (stage 1, with its latent scaling factor)
 * and the pre-trained ViT (stage 2); everything else at MIGE's initialisation, ready for
 * `mige train`. `--fusion none` builds the wo_VAE-feature ablation.
 *
 *   npx tsx scripts/world-model/assemble.ts --vae runs/world/vae --vit runs/world/vit --out runs/world/init
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readSafetensors, tf } from '@mige/core';
import { MigeModel, saveModel, type MigeConfig } from '../../src/model/index.js';
import { args, start, worldConfig } from './common.js';

const a = args({ vae: 'runs/world/vae', vit: 'runs/world/vit', out: 'runs/world/init', seed: '0', fusion: 'ffm' });
await start();
const stats = JSON.parse(readFileSync(join(a.vae, 'vae-stats.json'), 'utf8')) as { scalingFactor: number };
const base = worldConfig();
const config: MigeConfig = {
  ...base,
  name: a.fusion === 'none' ? 'mige-world-no-ffm' : 'mige-world',
  fusion: a.fusion === 'none' ? { type: 'none' } : base.fusion,
  vae: { ...base.vae, scalingFactor: Number(stats.scalingFactor.toPrecision(6)) },
};
const model = MigeModel.create(config, { seed: Number(a.seed) });
const toTensors = (file: string) => new Map([...readSafetensors(file)].map(([k, t]) => [k, tf.tensor(t.data, t.shape, t.dtype)]));
model.vae.loadStateDict(toTensors(join(a.vae, 'vae.safetensors')), { strict: true, source: 'vae.safetensors' });
const vit = toTensors(join(a.vit, 'vit.safetensors'));
const report = model.loadStateDict(vit, { strict: false, source: 'vit.safetensors' });
if (report.unexpected.length > 0 || report.missing.some((k) => k.startsWith('visual_encoder.') || k.startsWith('ln_vision.'))) {
  throw new Error(`the ViT weights do not fit: unexpected ${report.unexpected.join(', ')}`);
}
await saveModel(model, a.out);
console.log(`assembled ${config.name} (scaling factor ${config.vae.scalingFactor}) → ${a.out}`);
