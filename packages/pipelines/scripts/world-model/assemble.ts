/**
 * Stage 3 prep: a MIGE-world model with the trained VAE (stage 1, with its latent scaling factor)
 * and the pre-trained ViT (stage 2); everything else at MIGE's initialisation, ready for
 * `mige train`. `--fusion none` builds the wo_VAE-feature ablation; `--prediction v` a
 * v-prediction model.
 *
 * PixArt initialises the caption and timestep MLPs with N(0, 0.02²) whatever their widths. At
 * PixArt-XL's (T5-XXL's 4096 channels in, 1152 wide) that keeps activations O(1); at ours (96 in,
 * 128 wide) the caption embedding came out at RMS 0.04 and, 4,500 steps later, the trained model
 * still ignored its instructions (RUNS.md). `--pixart-gains` (default on) rescales those weights
 * by √(XL fan-in / ours), which restores XL's gains.
 *
 *   npx tsx scripts/world-model/assemble.ts --vae runs/world/vae --vit runs/world/vit --out runs/world/init
 *   npx tsx scripts/world-model/assemble.ts --frozen-from ../model-world --out runs/world/init   (that model's VAE and ViT)
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readSafetensors, tf } from '@mige/core';
import { loadModel, MIGE_XL, MigeModel, saveModel, type MigeConfig } from '../../src/model/index.js';
import { args, start, worldConfig } from './common.js';

const a = args({ config: '', vae: 'runs/world/vae', vit: 'runs/world/vit', 'frozen-from': '', 'encoder-from': '', out: 'runs/world/init', seed: '0', fusion: 'ffm', prediction: 'epsilon', 'pixart-gains': '1' });
if (a.prediction !== 'epsilon' && a.prediction !== 'v') throw new Error(`--prediction must be epsilon or v, got ${a.prediction}`);
await start();
// --frozen-from M: the frozen VAE (with its scaling factor) and ViT of model folder M instead of
// stages 1 and 2's outputs (what those stages made for M; saves their 2 hours). ln_vision, which
// joint training trains, stays at its initialisation.
const donor = a['frozen-from'] ? await loadModel(a['frozen-from']) : undefined;
const stats = donor ? { scalingFactor: donor.vae.scalingFactor } : (JSON.parse(readFileSync(join(a.vae, 'vae-stats.json'), 'utf8')) as { scalingFactor: number });
// --config: another architecture than mige-world.config.json (v1's, for research/'s record of it).
const base = a.config ? worldConfig(a.config) : worldConfig();
const config: MigeConfig = {
  ...base,
  name: a.fusion === 'none' ? 'mige-world-no-ffm' : 'mige-world',
  fusion: a.fusion === 'none' ? { type: 'none' } : base.fusion,
  vae: { ...base.vae, scalingFactor: Number(stats.scalingFactor.toPrecision(6)) },
  ...(a.prediction === 'v' ? { prediction: 'v' as const } : {}),
};
const model = MigeModel.create(config, { seed: Number(a.seed) });
if (a['pixart-gains'] === '1') {
  const { hiddenSize: d, captionChannels: c } = config.backbone;
  const { hiddenSize: xlD, captionChannels: xlC } = MIGE_XL.backbone;
  // The weights PixArt draws from N(0, 0.02²), by fan-in (t_embedder.mlp.0's is 256 at every size).
  const fanIns: Record<string, [number, number]> = {
    'y_embedder.y_proj.fc1.weight': [xlC, c], 'y_embedder.y_proj.fc2.weight': [xlD, d], 't_embedder.mlp.2.weight': [xlD, d], 't_block.1.weight': [xlD, d],
  };
  const params = new Map(model.namedParameters());
  for (const [name, [xl, ours]] of Object.entries(fanIns)) {
    const p = params.get(name);
    if (!p) throw new Error(`no parameter ${name} to rescale`);
    p.assign(tf.mul(p, Math.sqrt(xl / ours)));
  }
}
const toTensors = (file: string) => new Map([...readSafetensors(file)].map(([k, t]) => [k, tf.tensor(t.data, t.shape, t.dtype)]));
model.vae.loadStateDict(donor ? donor.vae.stateDict() : toTensors(join(a.vae, 'vae.safetensors')), { strict: true, source: donor ? a['frozen-from'] : 'vae.safetensors' });
const vit = donor
  ? new Map([...donor.stateDict()].filter(([k]) => k.startsWith('visual_encoder.')))
  : toTensors(join(a.vit, 'vit.safetensors'));
const report = model.loadStateDict(vit, { strict: false, source: 'vit.safetensors' });
if (report.unexpected.length > 0 || report.missing.some((k) => k.startsWith('visual_encoder.') || (!donor && k.startsWith('ln_vision.')))) {
  throw new Error(`the ViT weights do not fit: unexpected ${report.unexpected.join(', ')}`);
}
// --encoder-from M: the instruction encoder (everything but the frozen ViT) of model folder M,
// e.g. the recipe's stage-2b encoder for an ablation's init.
if (a['encoder-from']) {
  const from = await loadModel(a['encoder-from']);
  const keep = ['ln_vision.', 'Qformer.', 'query_tokens', 't5_proj.', 't5_model.'];
  model.loadStateDict(new Map([...from.stateDict()].filter(([k]) => keep.some((p) => k.startsWith(p)))), { strict: false, source: a['encoder-from'] });
}
await saveModel(model, a.out);
console.log(`assembled ${config.name} (scaling factor ${config.vae.scalingFactor}) → ${a.out}`);
