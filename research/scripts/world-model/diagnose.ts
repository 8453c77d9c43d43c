/**
 * How well a model denoises benchmark cases at fixed timesteps: ε-MSE and the RMSE of the x0 it
 * implies, with the source and with a zero source, and with another example's instruction (if
 * that scores the same, the model ignores its instructions), next to the source-vs-target latent
 * RMSE (what copying scores). x0 errors at high t are what few-step samplers amplify (RUNS.md).
 * Every task works; "edited cells" are those of the cases with a source.
 *
 * `--grid F` also writes a PNG: per case the source (a subject case: its first subject), the
 * target and the decoded x0 at each t, for the run `--grid-run` names (source, the default: the
 * source and the right instruction; zero: a zero source; other: another case's instruction). It
 * shows from which t on the x0 loses an object's shape (RUNS.md: at t = 500 an added heart is
 * already a blob, a subject's shape is still there at 700).
 *
 *   npx tsx ../../research/scripts/world-model/diagnose.ts --model runs/world/joint/model [--tasks background] [--world-seed 3000] [--grid x0.png --grid-run zero]
 */
import { MigeInputError, Rng, tf, writeImage, type RgbImage } from '@mige/core';
import { benchmarkSplit, imageGrid, splitExamples, streamExamples } from '@mige/data';
import { loadModel } from '../../../packages/pipelines/src/model/index.js';
import { datasetFromWorld, editFocusWeights, prepareTrainBatch, TRAIN_TASKS } from '../../../packages/pipelines/src/train/index.js';
import { args, start } from '../../../packages/pipelines/scripts/world-model/common.js';
import { decodeLatents, estimatesAt, rms, type Conditioning } from './x0-estimate.js';

const a = args({ model: 'runs/world/joint/model', count: '4', tasks: 'recolor,move', t: '50,200,400,600,800,950,999', 'world-seed': '', 'world-count': '10000', grid: '', 'grid-run': 'source' });
const GRID_RUNS = ['source', 'zero', 'other'];
const gridRun = GRID_RUNS.indexOf(a['grid-run']);
if (gridRun < 0) throw new MigeInputError(`must be one of ${GRID_RUNS.join(', ')}, got '${a['grid-run']}'`, '--grid-run');
await start();
const model = await loadModel(a.model);
const tasks = a.tasks.split(',');
// --world-seed 3000: cases from the training world (mige train --world 10000 --world-seed 3000) instead
// of the benchmark: the same scores on seen cases tell memorising from learning.
const seen = a['world-seed'] ? [...streamExamples({ seed: Number(a['world-seed']), count: Number(a['world-count']), size: model.config.imageSize })] : [];
const worldExamples = a['world-seed']
  ? tasks.flatMap((task) => seen.filter((ex) => ex.task === task).slice(0, Number(a.count)))
  : [...splitExamples(benchmarkSplit({ seed: 0, size: model.config.imageSize, counts: Object.fromEntries(tasks.map((task) => [task, Number(a.count)])) }))];
// Each case through its own training group (subject, edit, add, replace), as `mige train` sees it.
const sizes = { imageSize: model.config.imageSize, vitSize: model.config.encoder.vision.imgSize };
const trainExamples = await Promise.all(worldExamples.map((ex) => {
  const ds = datasetFromWorld([ex], sizes);
  return ds.get(TRAIN_TASKS.find((t) => ds.sizes[t] > 0)!, 0);
}));
const batch = prepareTrainBatch(model, trainExamples, new Rng('diagnose'), 'mean');
// The edited latent cells (editFocusWeights' dilated change mask): where an instruction must act.
const edited = tf.tidy(() => {
  const w = editFocusWeights(trainExamples, model.latentSize(), 1);
  return tf.cast(tf.greater(w, tf.min(w, [1, 2, 3], true)), 'float32');
});
const editedCount = tf.tidy(() => tf.sum(edited).dataSync()[0] as number) * batch.x0.shape[1];
const rmsEdited = (t: tf.Tensor) => Math.sqrt(tf.tidy(() => tf.sum(tf.mul(tf.square(t), edited)).dataSync()[0] as number) / editedCount);
const { y, mask } = model.encoder.encode(batch.inputs, { fusion: model.fusion, patchEmbedder: model.backbone.patchEmbedder });
console.log(`copy-source latent RMSE ${rms(tf.sub(batch.cond, batch.x0)).toFixed(3)}, x0 RMS ${rms(batch.x0).toFixed(3)}`);
const n = worldExamples.length;
const decode = (x0: tf.Tensor): RgbImage[] => decodeLatents(model, x0);
const gridColumns: RgbImage[][] = a.grid ? [worldExamples.map((ex) => ex.source ?? (ex.entities[0] as RgbImage)), decode(batch.x0)] : [];
const other = Array.from({ length: n }, (_, i) => (i + 1) % n);
const [yOther, maskOther] = [tf.gather(y, other), tf.gather(mask, other)];
console.log(`copy-source latent RMSE on the edited cells ${rmsEdited(tf.sub(batch.cond, batch.x0)).toFixed(3)}`);
console.log('t | with source: ε-MSE, x0 RMSE, x0 RMSE on edited cells | zero source | another instruction');
for (const t of a.t.split(',').map(Number)) {
  const row = tf.tidy(() => {
    const runs: Conditioning[] = [{ cond: batch.cond, y, mask }, { cond: tf.zerosLike(batch.cond), y, mask }, { cond: batch.cond, y: yOther, mask: maskOther }];
    const { noise, estimates } = estimatesAt(model, batch.x0, t, runs);
    return estimates.map(({ eps, x0 }, r) => {
      if (a.grid && r === gridRun) gridColumns.push(decode(x0));
      return `${(rms(tf.sub(eps, noise)) ** 2).toFixed(4)}, ${rms(tf.sub(x0, batch.x0)).toFixed(3)}, ${rmsEdited(tf.sub(x0, batch.x0)).toFixed(3)}`;
    });
  });
  console.log(`${t} | ${row.join(' | ')}`);
}
if (a.grid) {
  await writeImage(a.grid, imageGrid(worldExamples.map((_, i) => gridColumns.map((col) => col[i]!))));
  console.log(`x0 grid (source, target, x0 with run '${a['grid-run']}' at t = ${a.t}): ${a.grid}`);
}
