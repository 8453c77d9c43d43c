/**
 * A model folder from a training run's checkpoint: the run's starting model (which holds the
 * frozen VAE) with the checkpoint's weights (latest, or --step), or its EMA weights (--ema).
 *
 * `--sampling` sets the folder's sampling.json (default: MIGE's DPM-Solver++ with 20 steps and
 * guidance y 2 / s 1.5 for every flow, which scored best on the validation split for the early
 * joint models and is what the ablations use; run-all.sh gives the default model the scales chosen
 * for it, see RUNS.md; `none` for none).
 *
 *   npx tsx scripts/world-model/checkpoint-to-model.ts --init runs/world/init --run runs/world/joint --ema 1 --out ../model-world
 */
import { join } from 'node:path';
import { loadModel, saveModel, setSamplingDefaults, type SamplingDefaults } from '../../src/model/index.js';
import { readCheckpoint, stepDirName } from '../../src/train/index.js';
import { args, start } from './common.js';

const WORLD_SAMPLING: SamplingDefaults = Object.fromEntries(['generate', 'edit', 'compose'].map((f) => [f, { sampler: { type: 'dpm-solver' }, steps: 20, scales: f === 'generate' ? { y: 2 } : { y: 2, s: 1.5 } }]));
const a = args({ init: 'runs/world/init', run: 'runs/world/joint', out: '../model-world', step: '', ema: '', sampling: JSON.stringify(WORLD_SAMPLING) });
await start();
const model = await loadModel(a.init);
const ck = readCheckpoint(a.step ? join(a.run, stepDirName(Number(a.step))) : a.run);
const weights = a.ema ? ck.ema : ck.model;
if (!weights) throw new Error(`${ck.path} holds no EMA weights`);
model.loadStateDict(weights, { strict: !a.ema, source: ck.path });
setSamplingDefaults(model, a.sampling === 'none' ? {} : (JSON.parse(a.sampling) as SamplingDefaults), '--sampling');
await saveModel(model, a.out);
console.log(`${a.out}: ${model.config.name} at step ${ck.step}${a.ema ? ' (EMA)' : ''}`);
