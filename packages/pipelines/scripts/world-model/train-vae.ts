/**
 * Stage 1 of the default model: the VAE, trained on synthetic-world images (targets, sources and
 * subject cards at 64 px, as random 32 px crops) with L1 + L2 reconstruction and a small KL term, as SD-VAE minus the
 * perceptual and GAN losses. Resumable; writes <out>/vae.safetensors and <out>/vae-stats.json
 * (the latent scaling factor, 1 / std of the latents, as SD's 0.18215 was chosen).
 *
 *   npx tsx scripts/world-model/train-vae.ts --out runs/world/vae --steps 1500
 */
import { join } from 'node:path';
import { chwToTensor, nn, Rng, tf, vaeTransform, writableFromTensors, writeSafetensors, writeTextFileAtomic, type RgbImage } from '@mige/core';
import { generateExample } from '@mige/data';
import { createAutoencoderKL } from '@mige/vae';
import { createTrainLogger } from '../../src/train/index.js';
import { args, resume, save, start, worldConfig } from './common.js';

const a = args({ out: 'runs/world/vae', steps: '1500', batch: '8', lr: '3e-4', seed: '0', 'data-seed': '1000', kl: '1e-6', every: '50', crop: '32', config: '' });
await start();
const config = worldConfig(a.config || undefined);
const size = config.imageSize;
const steps = Number(a.steps), batch = Number(a.batch), seed = Number(a.seed), dataSeed = Number(a['data-seed']);
nn.manualSeed(`vae-${seed}`);
const vae = createAutoencoderKL(config.vae, { init: true });
const params = vae.namedParameters();
const names = new Map(params.map(([n, p]) => [p.name, n]));
const opt = new nn.AdamW(params, { lr: Number(a.lr), weightDecay: 0, warmupSteps: 100 });
let step = resume(a.out, vae, opt);

/** Any image of a random world example: its target, its source or one of its entities. */
function image(rng: Rng): RgbImage {
  const ex = generateExample(dataSeed, rng.int(0, 1_000_000), { size });
  const all = [ex.target, ...(ex.source ? [ex.source] : []), ...ex.entities];
  return all[rng.int(0, all.length)] as RgbImage;
}

/** A random crop×crop window of a 64 px image: the VAE is convolutional, and crops cost a quarter. */
function cropped(img: RgbImage, rng: Rng, crop: number): RgbImage {
  if (crop >= img.width) return img;
  const x0 = rng.int(0, img.width - crop + 1), y0 = rng.int(0, img.height - crop + 1);
  const data = new Uint8Array(crop * crop * 3);
  for (let y = 0; y < crop; y++) data.set(img.data.subarray(((y0 + y) * img.width + x0) * 3, ((y0 + y) * img.width + x0 + crop) * 3), y * crop * 3);
  return { width: crop, height: crop, data };
}

const logger = createTrainLogger({ stream: process.stderr, total: steps, metricsFile: join(a.out, 'metrics.jsonl'), mode: 'jsonl', startStep: step });
while (step < steps) {
  const rng = new Rng(seed).fork(`vae/${step}`);
  const crop = Number(a.crop);
  const x = chwToTensor(Array.from({ length: batch }, () => vaeTransform(cropped(image(rng), rng, crop), crop)));
  const eps = rng.fork('eps');
  const values = tf.tidy(() => {
    let parts: number[] = [];
    const { value, grads } = tf.variableGrads(() => {
      const d = vae.encode(x);
      const z = d.sample(eps);
      const out = vae.decode(z);
      const l1 = tf.mean(tf.abs(tf.sub(out, x)));
      const l2 = tf.mean(tf.square(tf.sub(out, x)));
      const kl = tf.mul(0.5, tf.mean(tf.sub(tf.add(tf.square(d.mean), tf.exp(d.logvar)), tf.add(1, d.logvar))));
      parts = [l1.dataSync()[0] as number, l2.dataSync()[0] as number, kl.dataSync()[0] as number];
      return tf.addN([l1, l2, tf.mul(kl, Number(a.kl))]) as tf.Scalar;
    }, params.map(([, p]) => p));
    const { gradNorm } = opt.apply(Object.fromEntries(Object.entries(grads).map(([v, g]) => [names.get(v) as string, g])));
    return { loss: value.dataSync()[0] as number, l1: parts[0] as number, l2: parts[1] as number, kl: parts[2] as number, grad_norm: gradNorm };
  });
  x.dispose();
  step++;
  logger.log(step, values);
  if (step % Number(a.every) === 0 || step === steps) save(a.out, step, vae, opt, { stage: 'vae' });
}
logger.close();

// The scaling factor: 1 / std of sampled latents over 256 fresh images, as SD chose 0.18215.
const statsRng = new Rng(seed).fork('stats');
const zs: number[] = [];
for (let i = 0; i < 32; i++) {
  tf.tidy(() => {
    const d = vae.encode(chwToTensor(Array.from({ length: 8 }, () => vaeTransform(image(statsRng), size))));
    zs.push(...(d.sample(statsRng).dataSync() as Float32Array));
  });
}
const mean = zs.reduce((s, v) => s + v, 0) / zs.length;
const std = Math.sqrt(zs.reduce((s, v) => s + (v - mean) ** 2, 0) / zs.length);
writeSafetensors(join(a.out, 'vae.safetensors'), writableFromTensors(vae.stateDict()));
writeTextFileAtomic(join(a.out, 'vae-stats.json'), `${JSON.stringify({ step, latentMean: mean, latentStd: std, scalingFactor: 1 / std }, null, 2)}\n`);
console.log(`vae done at step ${step}: latent std ${std.toFixed(4)} → scaling factor ${(1 / std).toFixed(5)}`);
