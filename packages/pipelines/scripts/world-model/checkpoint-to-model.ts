/**
 * A model folder from a training run's checkpoint: the run's starting model (which holds the
 * frozen VAE) with the checkpoint's weights (latest, or --step), or its EMA weights (--ema).
 *
 *   npx tsx scripts/world-model/checkpoint-to-model.ts --init runs/world/init --run runs/world/joint --out models/mige-world
 */
import { join } from 'node:path';
import { loadModel, saveModel } from '../../src/model/index.js';
import { readCheckpoint, stepDirName } from '../../src/train/index.js';
import { args, start } from './common.js';

const a = args({ init: 'runs/world/init', run: 'runs/world/joint', out: 'models/mige-world', step: '', ema: '' });
await start();
const model = await loadModel(a.init);
const ck = readCheckpoint(a.step ? join(a.run, stepDirName(Number(a.step))) : a.run);
const weights = a.ema ? ck.ema : ck.model;
if (!weights) throw new Error(`${ck.path} holds no EMA weights`);
model.loadStateDict(weights, { strict: !a.ema, source: ck.path });
await saveModel(model, a.out);
console.log(`${a.out}: ${model.config.name} at step ${ck.step}${a.ema ? ' (EMA)' : ''}`);
