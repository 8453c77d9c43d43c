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
import { blipEvalTransform, chwToTensor, nn, tf, writableFromTensors, writeSafetensors } from '@mige/core';
import { VisionEncoder } from '@mige/encoder';
import { args, pretrain, start, worldConfig } from './common.js';
import { ATTRIBUTE_LOGITS, attributeLoss, sampleImage } from './world-targets.js';

const a = args({ out: 'runs/world/vit', steps: '1500', batch: '16', lr: '5e-4', seed: '0', 'data-seed': '2000', every: '50' });
await start();
const config = worldConfig();
const steps = Number(a.steps), batch = Number(a.batch), seed = Number(a.seed), dataSeed = Number(a['data-seed']);
const S = config.encoder.vision.imgSize;

class Pretrain extends nn.Module {
  readonly vision: VisionEncoder;
  readonly head: nn.Linear;
  constructor() {
    super();
    this.vision = this.module('vision', new VisionEncoder(config.encoder.vision));
    this.head = this.module('head', new nn.Linear(config.encoder.vision.embedDim, ATTRIBUTE_LOGITS));
    this.vision.visualEncoder.requiresGrad(true).train();
  }
}
nn.manualSeed(`vit-${seed}`);
const net = new Pretrain();
const step = pretrain({ net, out: a.out, steps, lr: Number(a.lr), every: Number(a.every), seed, stage: 'vit' }, (rng, params, apply) => {
  const items = Array.from({ length: batch }, () => sampleImage(dataSeed, config.imageSize, rng));
  const x = chwToTensor(items.map((it) => blipEvalTransform(it.image, S)));
  const values = tf.tidy(() => {
    let acc = 0;
    const { value, grads } = tf.variableGrads(() => {
      const logits = net.head.forward(tf.mean(net.vision.forward(x), 1)) as tf.Tensor2D;
      const { loss, bgAccuracy } = attributeLoss(logits, items.map((it) => it.target));
      acc = bgAccuracy.dataSync()[0] as number;
      return loss;
    }, params);
    return { loss: value.dataSync()[0] as number, bg_acc: acc, grad_norm: apply(grads) };
  });
  x.dispose();
  return values;
});
const sd = new Map<string, tf.Tensor>();
for (const [k, t] of net.vision.stateDict()) sd.set(k, t);
writeSafetensors(join(a.out, 'vit.safetensors'), writableFromTensors(sd));
console.log(`vit done at step ${step}`);
