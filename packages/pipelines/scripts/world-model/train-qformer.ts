/**
 * Stage 2b of the default model: the Q-Former's pre-training. MIGE starts from BLIP-2's
 * pretrained Q-Former; trained from scratch inside the joint stage, ours hands the DiT query
 * tokens in which subjects differ little (RUNS.md: between-subject spread 0.10-0.19 of the RMS,
 * against the ViT's 0.36). Here the Q-Former (with its query tokens) learns, on the frozen
 * pre-trained ViT (stage 2), to read the world's attributes off every image, and which (shape,
 * colour) pairs it holds, from the mean of its query outputs. Resumable; writes
 * <out>/qformer.safetensors under MIGE's names (Qformer.*, query_tokens) for assemble.ts --qformer.
 *
 *   npx tsx scripts/world-model/train-qformer.ts --vit runs/world/vit --out runs/world/qformer --steps 1500
 */
import { join } from 'node:path';
import { blipEvalTransform, chwToTensor, nn, readSafetensors, tf, writableFromTensors, writeSafetensors } from '@mige/core';
import { QFormer, VisionEncoder } from '@mige/encoder';
import { args, pretrain, start, worldConfig } from './common.js';
import { ATTRIBUTE_LOGITS, attributeLoss, PAIR_LOGITS, sampleImage } from './world-targets.js';

const a = args({ vit: 'runs/world/vit', out: 'runs/world/qformer', steps: '1500', batch: '16', lr: '5e-4', seed: '0', 'data-seed': '2500', every: '50' });
await start();
const config = worldConfig();
const steps = Number(a.steps), batch = Number(a.batch), seed = Number(a.seed), dataSeed = Number(a['data-seed']);

class Pretrain extends nn.Module {
  readonly qformer: QFormer;
  readonly head: nn.Linear;
  constructor() {
    super();
    this.qformer = this.module('qformer', new QFormer(config.encoder.qformer));
    this.head = this.module('head', new nn.Linear(config.encoder.qformer.hiddenSize, ATTRIBUTE_LOGITS + PAIR_LOGITS));
  }
}
nn.manualSeed(`qformer-${seed}`);
const vision = new VisionEncoder(config.encoder.vision);
const vit = new Map([...readSafetensors(join(a.vit, 'vit.safetensors'))].map(([k, t]) => [k, tf.tensor(t.data, t.shape, t.dtype)]));
vision.loadStateDict(vit, { strict: true, source: join(a.vit, 'vit.safetensors') });
const net = new Pretrain();
const step = pretrain({ net, out: a.out, steps, lr: Number(a.lr), every: Number(a.every), seed, stage: 'qformer' }, (rng, params, apply) => {
  const items = Array.from({ length: batch }, () => sampleImage(dataSeed, config.imageSize, rng));
  const targets = items.map((it) => it.target);
  // The ViT is frozen (as in the joint stage): its features are plain inputs here.
  const features = tf.tidy(() => vision.forward(chwToTensor(items.map((it) => blipEvalTransform(it.image, config.encoder.vision.imgSize)))));
  const values = tf.tidy(() => {
    let acc = 0;
    const pairs = tf.tensor2d(targets.map((t) => t.pairs));
    const { value, grads } = tf.variableGrads(() => {
      const logits = net.head.forward(tf.mean(net.qformer.forward(features), 1)) as tf.Tensor2D;
      const [attributes, pairLogits] = tf.split(logits, [ATTRIBUTE_LOGITS, PAIR_LOGITS], 1) as [tf.Tensor2D, tf.Tensor2D];
      const { loss, bgAccuracy } = attributeLoss(attributes, targets);
      acc = bgAccuracy.dataSync()[0] as number;
      return tf.add(loss, tf.losses.sigmoidCrossEntropy(pairs, pairLogits)) as tf.Scalar;
    }, params);
    return { loss: value.dataSync()[0] as number, bg_acc: acc, grad_norm: apply(grads) };
  });
  features.dispose();
  return values;
});
writeSafetensors(join(a.out, 'qformer.safetensors'), writableFromTensors(net.qformer.stateDict()));
console.log(`qformer done at step ${step}`);
