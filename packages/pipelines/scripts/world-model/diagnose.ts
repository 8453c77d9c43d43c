/**
 * How well a model denoises benchmark edits at fixed timesteps: ε-MSE and the RMSE of the x0 it
 * implies, with the source and with a zero source, next to the source-vs-target latent RMSE (what
 * copying scores). x0 errors at high t are what few-step samplers amplify (RUNS.md).
 *
 *   npx tsx scripts/world-model/diagnose.ts --model runs/world/joint/model
 */
import { Rng, tf } from '@mige/core';
import { benchmarkSplit, splitExamples } from '@mige/data';
import { ddpmTables, linearBetas } from '../../src/diffusion/index.js';
import { loadModel } from '../../src/model/index.js';
import { datasetFromWorld, prepareTrainBatch } from '../../src/train/index.js';
import { args, start } from './common.js';

const a = args({ model: 'runs/world/joint/model', count: '4', t: '50,200,400,600,800,950,999' });
await start();
const model = await loadModel(a.model);
const split = benchmarkSplit({ seed: 0, size: model.config.imageSize, counts: { recolor: Number(a.count), move: Number(a.count) } });
const worldExamples = [...splitExamples(split)];
const ds = datasetFromWorld(worldExamples, { imageSize: model.config.imageSize, vitSize: model.config.encoder.vision.imgSize });
const batch = prepareTrainBatch(model, await Promise.all(worldExamples.map((_, i) => ds.get('edit', i))), new Rng('diagnose'), 'mean');
const { y, mask } = model.encoder.encode(batch.inputs, { fusion: model.fusion, patchEmbedder: model.backbone.patchEmbedder });
const { alphasCumprod } = ddpmTables(linearBetas(1000));
const rms = (t: tf.Tensor) => Math.sqrt(tf.tidy(() => tf.mean(tf.square(t)).dataSync()[0] as number));
console.log(`copy-source latent RMSE ${rms(tf.sub(batch.cond, batch.x0)).toFixed(3)}, x0 RMS ${rms(batch.x0).toFixed(3)}`);
console.log('t | with source: ε-MSE, x0 RMSE | zero source: ε-MSE, x0 RMSE');
for (const t of a.t.split(',').map(Number)) {
  const ab = alphasCumprod[t] as number;
  const [alpha, sigma] = [Math.sqrt(ab), Math.sqrt(1 - ab)];
  const row = tf.tidy(() => {
    const noise = new Rng(`noise/${t}`).randn(batch.x0.shape);
    const xt = tf.add(tf.mul(batch.x0, alpha), tf.mul(noise, sigma)) as tf.Tensor4D;
    return [batch.cond, tf.zerosLike(batch.cond)].map((cond) => {
      const { eps } = model.backbone.forward({ x: xt, cond: cond as tf.Tensor4D, t: tf.fill([batch.x0.shape[0]], t), y, mask });
      const x0 = tf.div(tf.sub(xt, tf.mul(eps, sigma)), alpha);
      return `${(rms(tf.sub(eps, noise)) ** 2).toFixed(4)}, ${rms(tf.sub(x0, batch.x0)).toFixed(3)}`;
    });
  });
  console.log(`${t} | ${row.join(' | ')}`);
}
