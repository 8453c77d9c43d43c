/**
 * Turns a model's DiT into a patch-size-1 one (one token per latent pixel, p² times as many) that
 * starts close to what the patch-p DiT computes, so training continues instead of starting over:
 * - x_embedder: the p×p kernel summed into 1×1, so a latent constant over a p×p patch embeds as
 *   before (every one of its p² new tokens gets the old token's embedding);
 * - final_layer.linear: the p² sub-position rows averaged into one (each output pixel was one of
 *   them; a new token cannot know which, so it predicts their mean);
 * - pos_embed: recomputed for the finer grid with leweiScale × p, so token i sits at position i / p
 *   on the old grid's scale and the blocks see the positions they were trained on.
 * Attention over p² copies of a token equals attention over the token, so the blocks are copied as
 * they are (the copies differ only by their finer positions). The FFM's keys come from the same
 * x_embedder and follow it. Training then continues with `mige train --model <out>`.
 *
 *   npx tsx ../../research/scripts/world-model/repatch.ts --model ../model-world --out dir
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MigeInputError, parseSafetensors, type WritableTensor } from '@mige/core';
import { derivedSizes, sincosPositionTable } from '@mige/dit';
import { isDitConfig, MODEL_FILES, readModelConfig } from '../../../packages/pipelines/src/model/index.js';
import { args } from '../../../packages/pipelines/scripts/world-model/common.js';
import { writableFromData, writeDerivedModel } from './derived-model.js';

const a = args({ model: '', out: '' });
if (!a.model || !a.out) throw new MigeInputError('give --model dir and --out dir', 'repatch');
const config = readModelConfig(join(a.model, MODEL_FILES.config));
const b = config.backbone;
if (!isDitConfig(b)) throw new MigeInputError('repatch works on DiT backbones', join(a.model, MODEL_FILES.config));
const p = b.patchSize;
if (p === 1) throw new MigeInputError('its DiT already has patch size 1', join(a.model, MODEL_FILES.config));
const weightsPath = join(a.model, MODEL_FILES.weights);
const parsed = parseSafetensors(readFileSync(weightsPath), { where: weightsPath });
const d = b.hiddenSize;
const { embedChannels: cIn, outChannels: cOut } = derivedSizes(b);
const get = (name: string, shape: number[]) => {
  const t = parsed.tensors.get(name);
  if (!t) throw new MigeInputError(`has no tensor ${name}`, weightsPath);
  if (t.shape.join(',') !== shape.join(',')) {
    throw new MigeInputError(`${name} has shape [${t.shape.join(', ')}], its config.json gives [${shape.join(', ')}]`, weightsPath);
  }
  return t;
};

const kernel = get('x_embedder.proj.weight', [d, cIn, p, p]);
const summed = new Float32Array(d * cIn);
for (let o = 0; o < d * cIn; o++) {
  let sum = 0;
  for (let k = 0; k < p * p; k++) sum += kernel.data[o * p * p + k] as number;
  summed[o] = sum;
}
const linW = get('final_layer.linear.weight', [p * p * cOut, d]); // rows ordered (p, q, c)
const linB = get('final_layer.linear.bias', [p * p * cOut]);
const meanW = new Float32Array(cOut * d), meanB = new Float32Array(cOut);
for (let c = 0; c < cOut; c++) {
  let bias = 0;
  for (let s = 0; s < p * p; s++) bias += linB.data[s * cOut + c] as number;
  meanB[c] = bias / (p * p);
  for (let j = 0; j < d; j++) {
    let w = 0;
    for (let s = 0; s < p * p; s++) w += linW.data[(s * cOut + c) * d + j] as number;
    meanW[c * d + j] = w / (p * p);
  }
}
const grid = b.inputSize;
const leweiScale = b.leweiScale * p;

const out = new Map<string, WritableTensor>();
for (const [name, t] of parsed.tensors) out.set(name, writableFromData(t));
out.set('x_embedder.proj.weight', { dtype: 'F32', shape: [d, cIn, 1, 1], data: summed });
out.set('final_layer.linear.weight', { dtype: 'F32', shape: [cOut, d], data: meanW });
out.set('final_layer.linear.bias', { dtype: 'F32', shape: [cOut], data: meanB });
out.set('pos_embed', { dtype: 'F32', shape: [1, grid * grid, d], data: sincosPositionTable(d, grid, grid, leweiScale) });

const repatched = { ...config, backbone: { ...b, patchSize: 1, leweiScale } };
writeDerivedModel(a.model, a.out, out, parsed.metadata, repatched);
console.log(`${a.out}: DiT patch size ${p} → 1 (${grid * grid} tokens), leweiScale ${b.leweiScale} → ${leweiScale}`);
