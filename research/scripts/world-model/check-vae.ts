/**
 * Reconstructions of 6 fresh world images by the VAE's latest checkpoint, as a grid
 * (originals on top): a quick look while stage 1 trains.
 *
 *   npx tsx ../../research/scripts/world-model/check-vae.ts --run runs/world/vae --out runs/world/vae-check.png
 */
import { chwToTensor, nn, Rng, tensorToImages, tf, vaeTransform, writeImage } from '@mige/core';
import { generateExample, imageGrid } from '@mige/data';
import { createAutoencoderKL } from '@mige/vae';
import { readCheckpoint } from '../../../packages/pipelines/src/train/index.js';
import { args, start, worldConfig } from '../../../packages/pipelines/scripts/world-model/common.js';

const a = args({ run: 'runs/world/vae', out: 'runs/world/vae-check.png' });
await start();
const config = worldConfig();
const vae = nn.withoutInit(() => createAutoencoderKL(config.vae));
const ck = readCheckpoint(a.run);
vae.loadStateDict(ck.model, { strict: true, source: ck.path });
const rng = new Rng('check');
const images = Array.from({ length: 6 }, (_, i) => {
  const ex = generateExample(99, i, { size: config.imageSize });
  return i % 2 ? ex.target : (ex.entities[0] ?? ex.target);
});
const x = chwToTensor(images.map((img) => vaeTransform(img, config.imageSize)));
const rec = tf.tidy(() => vae.decode(vae.encode(x).sample(rng)));
const l1 = tf.tidy(() => tf.mean(tf.abs(tf.sub(rec, x))).dataSync()[0] as number);
await writeImage(a.out, imageGrid([images, tensorToImages(rec)]));
console.log(`step ${ck.step}: L1 ${l1.toFixed(4)} on 6 fresh 64 px images → ${a.out}`);
