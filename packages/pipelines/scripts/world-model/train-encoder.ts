/**
 * Stage 2b of the default model: the instruction encoder (Q-Former, t5_proj and the T5 encoder,
 * over the frozen ViT) learns what an instruction and its images ask for, before joint training.
 * MIGE starts from a pretrained BLIP-2 Q-Former and T5; here they start from random weights, and
 * issue 45's probes found that the condition y then names the object an edit acts on (its shape
 * word) but not where that object is: a linear probe on y reads the named object's region no
 * better than the majority class, and the DiT's cross-attention stays near uniform, so nothing
 * binds "the square" to the square. This stage trains the encoder to describe the TARGET scene
 * from y: for each of the 3 × 3 regions, the shape, colour and pattern of the object centred there
 * (or none), its size and where in the region it sits, and the background's colour and kind. An
 * edit's target depends on the source image and the words together ("remove the square": the
 * square's region becomes empty), so y has to bind them. The readout is a small MLP on y
 * mean-pooled over its content tokens, what the DiT's near-uniform cross-attention reads at the
 * start of joint training; it is thrown away afterwards.
 *
 * The FFM's output projection starts at zero, so it adds nothing here (zeros stand in for the VAE
 * latents); joint training then trains everything, as before.
 *
 *   npx tsx scripts/world-model/train-encoder.ts --model runs/world/init --out runs/world/encoder --steps 3000
 *
 * Resumable; writes <out>/model (the input model with the trained encoder) when done, and the
 * held-out accuracy per task to <out>/eval.txt.
 */
import { join } from 'node:path';
import { chwToTensor, nn, Rng, tf, writeTextFileAtomic, type EncoderInput } from '@mige/core';
import { COLOR_NAMES, generateExample, PATTERN_NAMES, regionName, SHAPE_NAMES, WORLD_TASKS, type WorldExample, type WorldTask } from '@mige/data';
import { loadModel, saveModel } from '../../src/model/index.js';
import { createTrainLogger, datasetFromWorld, PROMPT_TASK, TRAIN_TASKS, type TrainExample } from '../../src/train/index.js';
import { args, resume, save, start } from './common.js';

const a = args({ model: 'runs/world/init', out: 'runs/world/encoder', steps: '3000', batch: '16', lr: '5e-4', seed: '0', 'data-seed': '4000', every: '250', 'eval-count': '60' });
await start();
const model = await loadModel(a.model);
const S = model.config.imageSize;
const D = model.config.encoder.t5.dModel;
const REGIONS = ['top left', 'top', 'top right', 'left', 'center', 'right', 'bottom left', 'bottom', 'bottom right'];
const KINDS = ['solid', 'vgradient', 'hgradient', 'texture'];
const [NS, NC, NP] = [SHAPE_NAMES.length + 1, COLOR_NAMES.length + 1, PATTERN_NAMES.length + 1];
/** Per region: shape (none + 8), colour (none + 10), pattern (none + 4), size, x and y offset in the region. */
const PER_REGION = NS + NC + NP + 3;
const OUT = REGIONS.length * PER_REGION + COLOR_NAMES.length + KINDS.length;

class Readout extends nn.Module {
  readonly fc1: nn.Linear;
  readonly fc2: nn.Linear;
  constructor() {
    super();
    this.fc1 = this.module('fc1', new nn.Linear(D, 256));
    this.fc2 = this.module('fc2', new nn.Linear(256, OUT));
  }
  forward(pooled: tf.Tensor2D): tf.Tensor2D {
    return this.fc2.forward(nn.geluTanh(this.fc1.forward(pooled))) as tf.Tensor2D;
  }
}
/** The encoder's trainable parameters and the readout, under one module (checkpoints, AdamW). */
class Pretrain extends nn.Module {
  readonly readout: Readout;
  constructor() {
    super();
    this.module('encoder', model.encoder.module);
    this.readout = this.module('readout', new Readout());
  }
}
nn.manualSeed(`encoder-${a.seed}`);
const net = new Pretrain();
const params = net.namedParameters().filter(([, p]) => p.trainable);
const names = new Map(params.map(([n, p]) => [p.name, n]));
const opt = new nn.AdamW(params, { lr: Number(a.lr), weightDecay: 0.01, warmupSteps: 100 });
let step = resume(a.out, net, opt);

interface Layout { shape: number[]; color: number[]; pattern: number[]; geom: number[][]; present: number[]; bg: number; kind: number }
/** The target scene by region: the object centred there (the largest, if several). */
function layoutOf(ex: WorldExample): Layout {
  const t = ex.annotations.target;
  const at = REGIONS.map(() => null as null | (typeof t.objects)[number]);
  for (const o of t.objects) {
    const r = REGIONS.indexOf(regionName(o.bbox[0] + o.bbox[2] / 2, o.bbox[1] + o.bbox[3] / 2, S, S));
    if (!at[r] || (at[r]!.size < o.size)) at[r] = o;
  }
  return {
    shape: at.map((o) => (o ? SHAPE_NAMES.indexOf(o.shape) + 1 : 0)),
    color: at.map((o) => (o ? COLOR_NAMES.indexOf(o.color) + 1 : 0)),
    pattern: at.map((o) => (o ? PATTERN_NAMES.indexOf(o.pattern) + 1 : 0)),
    // Size as a share of the canvas; the centre's place in its region cell, in [-0.5, 0.5].
    geom: at.map((o, r) => {
      if (!o) return [0, 0, 0];
      const cell = S / 3, cx = o.bbox[0] + o.bbox[2] / 2, cy = o.bbox[1] + o.bbox[3] / 2;
      return [o.size / S, (cx - (r % 3) * cell) / cell - 0.5, (cy - Math.floor(r / 3) * cell) / cell - 0.5];
    }),
    present: at.map((o) => (o ? 1 : 0)),
    bg: COLOR_NAMES.indexOf(t.background.color),
    kind: KINDS.indexOf(t.background.kind),
  };
}

const sizes = { imageSize: S, vitSize: model.config.encoder.vision.imgSize };
async function trainExample(ex: WorldExample): Promise<TrainExample> {
  const ds = datasetFromWorld([ex], sizes);
  return ds.get(TRAIN_TASKS.find((t) => ds.sizes[t] > 0)!, 0);
}
/** What the encoder sees: the instruction, its images for the ViT, zero latents (the FFM adds nothing yet). */
function encoderInput(t: TrainExample): EncoderInput {
  const n = t.entities.length;
  const v = sizes.vitSize, l = model.latentSize();
  return {
    text: t.instruction,
    task: PROMPT_TASK[t.task],
    images: n > 0 ? chwToTensor(t.entities.map((e) => e.vit)) : (tf.zeros([0, 3, v, v]) as tf.Tensor4D),
    latents: tf.zeros([n, model.vae.latentChannels, l, l]) as EncoderInput['latents'],
  };
}

/** Logits [B, OUT] from mean-pooled y. */
function readout(inputs: EncoderInput[]): tf.Tensor2D {
  const { y, mask } = model.encoder.encode(inputs, { fusion: model.fusion, patchEmbedder: model.backbone.patchEmbedder });
  const m = tf.expandDims(tf.cast(mask, 'float32'), 2);
  const pooled = tf.div(tf.sum(tf.mul(y, m), 1), tf.sum(m, 1)) as tf.Tensor2D;
  return net.readout.forward(pooled);
}
function split(logits: tf.Tensor2D): { perRegion: tf.Tensor3D; bg: tf.Tensor2D; kind: tf.Tensor2D } {
  const b = logits.shape[0];
  const [r, bg, kind] = tf.split(logits, [REGIONS.length * PER_REGION, COLOR_NAMES.length, KINDS.length], 1) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
  return { perRegion: tf.reshape(r, [b, REGIONS.length, PER_REGION]) as tf.Tensor3D, bg, kind };
}
function loss(logits: tf.Tensor2D, ys: Layout[]): tf.Scalar {
  const b = ys.length, R = REGIONS.length;
  const { perRegion, bg, kind } = split(logits);
  const [ls, lc, lp, lg] = tf.split(tf.reshape(perRegion, [b * R, PER_REGION]), [NS, NC, NP, 3], 1) as tf.Tensor2D[];
  const hot = (idx: number[], n: number) => tf.oneHot(tf.tensor1d(idx, 'int32'), n);
  const present = tf.tensor2d(ys.flatMap((y) => y.present), [b * R, 1]);
  const geom = tf.tensor2d(ys.flatMap((y) => y.geom.flat()), [b * R, 3]);
  // Geometry only where an object is; its scale (shares of the canvas / cell) wants a larger weight.
  const geomLoss = tf.div(tf.sum(tf.mul(tf.square(tf.sub(lg!, geom)), present)), tf.maximum(tf.sum(present), 1));
  return tf.addN([
    tf.losses.softmaxCrossEntropy(hot(ys.flatMap((y) => y.shape), NS), ls!),
    tf.losses.softmaxCrossEntropy(hot(ys.flatMap((y) => y.color), NC), lc!),
    tf.losses.softmaxCrossEntropy(hot(ys.flatMap((y) => y.pattern), NP), lp!),
    tf.mul(geomLoss, 10),
    tf.losses.softmaxCrossEntropy(hot(ys.map((y) => y.bg), COLOR_NAMES.length), bg),
    tf.losses.softmaxCrossEntropy(hot(ys.map((y) => y.kind), KINDS.length), kind),
  ]) as tf.Scalar;
}

/** Examples of the world's nine tasks, equally often (as the benchmark has them). */
const example = (seed: number, index: number) => generateExample(seed, index, { size: S });

const logger = createTrainLogger({ stream: process.stderr, total: Number(a.steps), metricsFile: join(a.out, 'metrics.jsonl'), mode: 'jsonl', startStep: step });
const batch = Number(a.batch);
while (step < Number(a.steps)) {
  const rng = new Rng(Number(a.seed)).fork(`encoder/${step}`);
  const exs = Array.from({ length: batch }, () => example(Number(a['data-seed']), rng.int(0, 1_000_000_000)));
  const inputs = (await Promise.all(exs.map(trainExample))).map(encoderInput);
  const ys = exs.map(layoutOf);
  const values = tf.tidy(() => {
    const { value, grads } = tf.variableGrads(() => loss(readout(inputs), ys), params.map(([, p]) => p));
    const { gradNorm } = opt.apply(Object.fromEntries(Object.entries(grads).map(([v, g]) => [names.get(v) as string, g])));
    return { loss: value.dataSync()[0] as number, grad_norm: gradNorm };
  });
  for (const i of inputs) tf.dispose([i.images, i.latents]);
  step++;
  logger.log(step, values);
  if (step % Number(a.every) === 0 || step === Number(a.steps)) save(a.out, step, net, opt, { stage: 'encoder' });
}
logger.close();

// Held-out check: per task, how often the readout gets the shape and colour of every region right,
// and of the region the edit changes (where the edited object ends up, or where a removed one was).
const lines = [`encoder readout at step ${step}, held-out world seed ${Number(a['data-seed']) + 1}, ${a['eval-count']} per task: every region's shape and colour right / the edited region's`];
for (const task of WORLD_TASKS as readonly WorldTask[]) {
  let all = 0, edited = 0, n = 0;
  for (let i = 0; i < Number(a['eval-count']); i++) {
    const ex = generateExample(Number(a['data-seed']) + 1, i, { size: S, task });
    const input = encoderInput(await trainExample(ex));
    const y = layoutOf(ex);
    const [shape, color] = tf.tidy(() => {
      const { perRegion } = split(readout([input]));
      const [ls, lc] = tf.split(tf.squeeze(perRegion, [0]), [NS, NC, NP + 3], 1) as tf.Tensor2D[];
      return [tf.argMax(ls!, 1), tf.argMax(lc!, 1)];
    });
    const [s, c] = [[...shape.dataSync()], [...color.dataSync()]];
    tf.dispose([shape, color, input.images, input.latents]);
    const ok = (r: number) => s[r] === y.shape[r] && c[r] === y.color[r];
    if (REGIONS.every((_, r) => ok(r))) all++;
    const e = ex.annotations.edit;
    const obj = task === 'remove' ? ex.annotations.source?.objects[e.object as number] : typeof e.object === 'number' ? ex.annotations.target.objects[e.object] : undefined;
    if (obj) {
      const r = REGIONS.indexOf(regionName(obj.bbox[0] + obj.bbox[2] / 2, obj.bbox[1] + obj.bbox[3] / 2, S, S));
      if (ok(r)) edited++;
      n++;
    }
  }
  const count = Number(a['eval-count']);
  lines.push(`${task.padEnd(16)} ${(all / count).toFixed(2)} / ${n ? (edited / n).toFixed(2) : '-'}`);
}
console.log(lines.join('\n'));
writeTextFileAtomic(join(a.out, 'eval.txt'), lines.join('\n') + '\n');
await saveModel(model, join(a.out, 'model'));
console.log(`encoder done at step ${step}: ${join(a.out, 'model')}`);
