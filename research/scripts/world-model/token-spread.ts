/**
 * How distinct subjects are along the image path: over subject cards, the between-subject spread
 * (RMS of the deviation from the cards' mean, over the RMS) of the ViT's tokens and of the
 * Q-Former's outputs (RUNS.md: the Q-Former is where subjects thinned out).
 *
 *   npx tsx ../../research/scripts/world-model/token-spread.ts --model runs/world/init [--count 12]
 */
import { blipEvalTransform, chwToTensor, tf } from '@mige/core';
import { generateExample } from '@mige/data';
import type { MigeInstructionEncoder } from '@mige/encoder';
import { loadModel } from '../../../packages/pipelines/src/model/index.js';
import { args, start } from '../../../packages/pipelines/scripts/world-model/common.js';

const a = args({ model: 'runs/world/init', count: '12', seed: '77' });
await start();
const model = await loadModel(a.model);
const { module } = model.encoder as unknown as MigeInstructionEncoder;
const cards = Array.from({ length: 200 }, (_, i) => generateExample(Number(a.seed), i, { task: 'subject', size: model.config.imageSize }))
  .flatMap((ex) => ex.entities)
  .slice(0, Number(a.count));
const spread = (t: tf.Tensor) => tf.tidy(() => {
  const flat = tf.reshape(t, [t.shape[0] as number, -1]);
  const dev = Math.sqrt(tf.mean(tf.square(tf.sub(flat, tf.mean(flat, 0, true)))).dataSync()[0] as number);
  return dev / Math.sqrt(tf.mean(tf.square(flat)).dataSync()[0] as number);
});
const [vit, queries] = tf.tidy(() => {
  const v = module.vision.forward(chwToTensor(cards.map((c) => blipEvalTransform(c, model.config.encoder.vision.imgSize))));
  return [v, module.qformer.forward(v)];
});
console.log(`${cards.length} subject cards: between-subject spread / RMS, ViT tokens ${spread(vit).toFixed(3)}, Q-Former outputs ${spread(queries).toFixed(3)}`);
