/**
 * x0 estimates of a model on the records of a manifest (its own training set, or held-out cases
 * from scatter.ts --write): RMSE against the target latent at fixed timesteps, with the right
 * instruction and with another record's, next to what drawing no object scores (the target's
 * background alone: the colour of its top-left pixel, so meant for solid backgrounds). A model
 * that knows what to draw puts the objects into x0 even at t = 900; one that does not draws the
 * background and, at best, a blur where the objects may be. `--grid F`: target, then x0 per t.
 *
 *   npx tsx ../../research/scripts/world-model/x0-probe.ts --model DIR --data manifest.jsonl --count 8 [--grid F]
 */
import { MigeInputError, Rng, tf, writeImage, type RgbImage } from '@mige/core';
import { imageGrid } from '@mige/data';
import { loadModel } from '../../../packages/pipelines/src/model/index.js';
import { datasetFromManifest, prepareTrainBatch, TRAIN_TASKS } from '../../../packages/pipelines/src/train/index.js';
import { args, start } from '../../../packages/pipelines/scripts/world-model/common.js';
import { decodeLatents, estimatesAt, rms, type Conditioning } from './x0-estimate.js';

const a = args({ model: '', data: '', count: '8', t: '100,300,500,700,900', grid: '', task: 'subject' });
const task = TRAIN_TASKS.find((t) => t === a.task);
if (!task) throw new MigeInputError(`must be one of ${TRAIN_TASKS.join(', ')}, got '${a.task}'`, '--task');
const steps = a.t.split(',').map(Number);
if (!steps.every((t) => Number.isInteger(t) && t >= 0 && t <= 999)) throw new MigeInputError(`must be timesteps in 0..999, comma-separated, got '${a.t}'`, '--t');
await start();
const model = await loadModel(a.model);
const ds = await datasetFromManifest(a.data, { imageSize: model.config.imageSize, vitSize: model.config.encoder.vision.imgSize });
const n = Number(a.count);
if (ds.sizes[task] < 2) throw new MigeInputError(`holds ${ds.sizes[task]} ${task} record(s); the probe needs at least 2`, a.data);
if (!Number.isInteger(n) || n < 2 || n > ds.sizes[task]) throw new MigeInputError(`must be a whole number in 2..${ds.sizes[task]} (the manifest's ${task} records), got '${a.count}'`, '--count');
const examples = await Promise.all(Array.from({ length: n }, (_, i) => ds.get(task, i)));
const batch = prepareTrainBatch(model, examples, new Rng('x0-probe'), 'mean');
const { y, mask } = model.encoder.encode(batch.inputs, { fusion: model.fusion, patchEmbedder: model.backbone.patchEmbedder });
const other = Array.from({ length: n }, (_, i) => (i + 1) % n);
const [yOther, maskOther] = [tf.gather(y, other), tf.gather(mask, other)];
const decode = (x0: tf.Tensor): RgbImage[] => decodeLatents(model, x0);
// Decoded only for --grid: eight VAE decodes per timestep otherwise wasted.
const columns: RgbImage[][] = a.grid ? [decode(batch.x0)] : [];
// The background alone (every pixel the colour of the top-left one): what a model that draws no object scores.
// Only its target latent is used, so its images are left out of the encoding.
const plain = examples.map((ex) => {
  const d = Float32Array.from(ex.target.data);
  const hw = d.length / 3;
  for (let c = 0; c < 3; c++) d.fill(d[c * hw] as number, c * hw, (c + 1) * hw);
  return { ...ex, target: { ...ex.target, data: d }, source: null, entities: [], sourceEntity: -1 };
});
const plainBatch = prepareTrainBatch(model, plain, new Rng('x0-probe'), 'mean');
console.log(`target latent RMS ${rms(batch.x0).toFixed(3)}; background alone: x0 RMSE ${rms(tf.sub(plainBatch.x0, batch.x0)).toFixed(3)}`);
console.log('t | SNR | x0 RMSE right instruction | another instruction | ε-MSE right instruction');
for (const t of steps) {
  let snr = 0;
  const row = tf.tidy(() => {
    const runs: Conditioning[] = [{ cond: batch.cond, y, mask }, { cond: batch.cond, y: yOther, mask: maskOther }];
    const r = estimatesAt(model, batch.x0, t, runs);
    snr = r.snr;
    const [right, other] = r.estimates as [{ eps: tf.Tensor; x0: tf.Tensor }, { eps: tf.Tensor; x0: tf.Tensor }];
    if (a.grid) columns.push(decode(right.x0));
    return `${rms(tf.sub(right.x0, batch.x0)).toFixed(3)} | ${rms(tf.sub(other.x0, batch.x0)).toFixed(3)} | ε ${(rms(tf.sub(right.eps, r.noise)) ** 2).toFixed(4)}`;
  });
  console.log(`${t} | ${snr.toFixed(3)} | ${row}`);
}
if (a.grid) await writeImage(a.grid, imageGrid(examples.map((_, i) => columns.map((c) => c[i]!))));
