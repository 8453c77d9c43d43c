import { Rng, tf } from '@mige/core';
import { benchmarkSplit, splitExamples } from '@mige/data';
import { loadModel } from '../../src/model/index.js';
import { datasetFromWorld, prepareTrainBatch } from '../../src/train/index.js';
import { start } from './common.js';
await start();
const model = await loadModel(process.argv[2] as string);
const split = benchmarkSplit({ seed: 0, size: 64, counts: { recolor: 4, move: 4 } });
const exs = [...splitExamples(split)];
const ds = datasetFromWorld(exs, { imageSize: 64, vitSize: model.config.encoder.vision.imgSize });
const examples = await Promise.all(exs.map((_, i) => ds.get('edit', i)));
const batch = prepareTrainBatch(model, examples, new Rng('d'), 'mean');
const { y, mask } = model.encoder.encode(batch.inputs, { fusion: model.fusion, patchEmbedder: model.backbone.patchEmbedder });
const B = exs.length;
const betas = Array.from({ length: 1000 }, (_, i) => 1e-4 + ((0.02 - 1e-4) * i) / 999);
const abar: number[] = []; let p = 1; for (const b of betas) { p *= 1 - b; abar.push(p); }
const rms = (t: tf.Tensor) => Math.sqrt(tf.mean(tf.square(t)).dataSync()[0] as number);
console.log('copy-source latent RMSE', rms(tf.sub(batch.cond, batch.x0)).toFixed(3), 'x0 rms', rms(batch.x0).toFixed(3));
for (const t of [50, 200, 400, 600, 800, 950, 999]) {
  const a = Math.sqrt(abar[t] as number), s = Math.sqrt(1 - (abar[t] as number));
  const noise = new Rng(`n${t}`).randn(batch.x0.shape);
  const xt = tf.add(tf.mul(batch.x0, a), tf.mul(noise, s));
  const row = [`t=${t}`];
  for (const cond of [batch.cond, tf.zerosLike(batch.cond)]) {
    const out = model.backbone.forward({ x: xt as tf.Tensor4D, cond: cond as tf.Tensor4D, t: tf.fill([B], t), y, mask });
    const epsMse = tf.mean(tf.square(tf.sub(out.eps, noise))).dataSync()[0] as number;
    const x0hat = tf.div(tf.sub(xt, tf.mul(out.eps, s)), a);
    row.push(`eps-mse ${epsMse.toFixed(4)} x0-rmse ${rms(tf.sub(x0hat, batch.x0)).toFixed(3)}`);
  }
  console.log(row.join(' | '));
}
