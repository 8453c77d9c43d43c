/**
 * Stage 2 of the default model: the ViT's pre-training. MIGE freezes a pretrained EVA ViT; here
 * the ViT (+ ln_vision) learns the synthetic world from its annotations: for every image (scene
 * or subject card) it predicts the background colour, which shapes, colours and patterns appear,
 * and how many objects there are, from the mean of its output tokens. Resumable; writes
 * <out>/vit.safetensors under MIGE's names (visual_encoder.*, ln_vision.*).
 *
 *   npx tsx scripts/world-model/train-vit.ts --out runs/world/vit --steps 1500
 */
import { join } from 'node:path';
import { blipEvalTransform, chwToTensor, nn, Rng, tf, writableFromTensors, writeSafetensors, type RgbImage } from '@mige/core';
import { COLOR_NAMES, generateExample, PATTERN_NAMES, SHAPE_NAMES, type WorldObject } from '@mige/data';
import { VisionEncoder } from '@mige/encoder';
import { createTrainLogger } from '../../src/train/index.js';
import { args, resume, save, start, worldConfig } from './common.js';

const a = args({ out: 'runs/world/vit', steps: '1500', batch: '16', lr: '5e-4', seed: '0', 'data-seed': '2000', every: '50' });
await start();
const config = worldConfig();
const steps = Number(a.steps), batch = Number(a.batch), seed = Number(a.seed), dataSeed = Number(a['data-seed']);
const S = config.encoder.vision.imgSize;
const C = COLOR_NAMES.length, SH = SHAPE_NAMES.length, P = PATTERN_NAMES.length;
/** Background: a world colour, or the subject cards' white (index C). Counts 1..4. */
const HEAD = C + 1 + SH + C + P + 4;

class Pretrain extends nn.Module {
  readonly vision: VisionEncoder;
  readonly head: nn.Linear;
  constructor() {
    super();
    this.vision = this.module('vision', new VisionEncoder(config.encoder.vision));
    this.head = this.module('head', new nn.Linear(config.encoder.vision.embedDim, HEAD));
    this.vision.visualEncoder.requiresGrad(true).train();
  }
}
nn.manualSeed(`vit-${seed}`);
const net = new Pretrain();
const params = net.trainableParameters();
const names = new Map(params.map(([n, p]) => [p.name, n]));
const opt = new nn.AdamW(params, { lr: Number(a.lr), weightDecay: 0.01, warmupSteps: 100 });
let step = resume(a.out, net, opt);

interface Target { bg: number; shapes: number[]; colors: number[]; patterns: number[]; count: number }
function targetOf(objects: readonly Pick<WorldObject, 'shape' | 'color' | 'pattern'>[], bg: number): Target {
  const hot = (n: number, idx: number[]) => Array.from({ length: n }, (_, i) => (idx.includes(i) ? 1 : 0));
  return {
    bg,
    shapes: hot(SH, objects.map((o) => SHAPE_NAMES.indexOf(o.shape))),
    colors: hot(C, objects.map((o) => COLOR_NAMES.indexOf(o.color))),
    patterns: hot(P, objects.map((o) => PATTERN_NAMES.indexOf(o.pattern))),
    count: Math.min(4, Math.max(1, objects.length)) - 1,
  };
}

/** A random image of a random example, with what the ViT must read off it. */
function sample(rng: Rng): { image: RgbImage; target: Target } {
  const ex = generateExample(dataSeed, rng.int(0, 1_000_000), { size: config.imageSize });
  const choices: { image: RgbImage; target: Target }[] = [{ image: ex.target, target: targetOf(ex.annotations.target.objects, COLOR_NAMES.indexOf(ex.annotations.target.background.color)) }];
  ex.entities.forEach((img, k) => {
    const subject = ex.annotations.subjects[k];
    if (subject) choices.push({ image: img, target: targetOf([subject], C) });
    else if (ex.annotations.source) choices.push({ image: img, target: targetOf(ex.annotations.source.objects, COLOR_NAMES.indexOf(ex.annotations.source.background.color)) });
  });
  return choices[rng.int(0, choices.length)] as { image: RgbImage; target: Target };
}

const logger = createTrainLogger({ stream: process.stderr, total: steps, metricsFile: join(a.out, 'metrics.jsonl'), mode: 'jsonl', startStep: step });
while (step < steps) {
  const rng = new Rng(seed).fork(`vit/${step}`);
  const items = Array.from({ length: batch }, () => sample(rng));
  const x = chwToTensor(items.map((it) => blipEvalTransform(it.image, S)));
  const values = tf.tidy(() => {
    const bg = tf.oneHot(tf.tensor1d(items.map((it) => it.target.bg), 'int32'), C + 1);
    const count = tf.oneHot(tf.tensor1d(items.map((it) => it.target.count), 'int32'), 4);
    const multi = tf.tensor2d(items.map((it) => [...it.target.shapes, ...it.target.colors, ...it.target.patterns]));
    let acc = 0;
    const { value, grads } = tf.variableGrads(() => {
      const feats = tf.mean(net.vision.forward(x), 1);
      const logits = net.head.forward(feats) as tf.Tensor2D;
      const [lbg, lmulti, lcount] = tf.split(logits, [C + 1, SH + C + P, 4], 1) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
      acc = tf.mean(tf.cast(tf.equal(tf.argMax(lbg, 1), tf.argMax(bg, 1)), 'float32')).dataSync()[0] as number;
      return tf.addN([tf.losses.softmaxCrossEntropy(bg, lbg), tf.losses.sigmoidCrossEntropy(multi, lmulti), tf.losses.softmaxCrossEntropy(count, lcount)]) as tf.Scalar;
    }, params.map(([, p]) => p));
    const { gradNorm } = opt.apply(Object.fromEntries(Object.entries(grads).map(([v, g]) => [names.get(v) as string, g])));
    return { loss: value.dataSync()[0] as number, bg_acc: acc, grad_norm: gradNorm };
  });
  x.dispose();
  step++;
  logger.log(step, values);
  if (step % Number(a.every) === 0 || step === steps) save(a.out, step, net, opt, { stage: 'vit' });
}
logger.close();
const sd = new Map<string, tf.Tensor>();
for (const [k, t] of net.vision.stateDict()) sd.set(k, t);
writeSafetensors(join(a.out, 'vit.safetensors'), writableFromTensors(sd));
console.log(`vit done at step ${step}`);
