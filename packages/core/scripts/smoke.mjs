// The README's main job until the default model ships: a smoke run of @mige/core that
// exercises every part once and prints what it did. Writes into demo-output/ at the repo root.
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  Rng, decodeImage, encodeImage, imageToTensor, initBackend, nn, readSafetensors, resize, tensorToImages, tf, writeImage, writeSafetensors,
} from '@mige/core';

const out = join(dirname(fileURLToPath(import.meta.url)), '../../../demo-output');
mkdirSync(out, { recursive: true });
const t0 = performance.now();
await initBackend();

// A tiny transformer block with PyTorch names, trained to map x to a fixed random target.
nn.manualSeed(0);
class Block extends nn.Module {
  norm = this.module('norm', new nn.LayerNorm(32));
  attn = this.module('attn', new nn.MultiheadAttention(32, 4, { batchFirst: true }));
  fc = this.module('fc', new nn.Linear(32, 32));
  forward(x) {
    const h = this.norm.forward(x);
    return tf.add(x, this.fc.forward(nn.geluTanh(this.attn.forward(h, h, h)[0])));
  }
}
const block = new Block();
const rng = new Rng(1);
const x = rng.randn([4, 16, 32]);
const target = rng.randn([4, 16, 32]);
const opt = new nn.AdamW(block.trainableParameters(), { lr: 3e-3, weightDecay: 0.01, maxGradNorm: 1, warmupSteps: 5 });
let first = 0, last = 0;
for (let step = 1; step <= 60; step++) {
  tf.tidy(() => {
    const { value, grads } = tf.variableGrads(() => tf.mean(tf.square(tf.sub(block.forward(x), target))), block.parameters());
    const byName = Object.fromEntries(block.trainableParameters().map(([n, p]) => [n, grads[p.name]]));
    opt.apply(byName);
    last = value.dataSync()[0];
    if (step === 1) first = last;
  });
}
console.log(`trained ${block.numParameters()} parameters for 60 AdamW steps: loss ${first.toFixed(4)} -> ${last.toFixed(4)}`);
if (!(last < first / 2)) throw new Error('smoke: training did not reduce the loss');

// Save and reload a checkpoint with PyTorch's names.
const ckpt = join(out, 'smoke-block.safetensors');
const sd = new Map([...block.stateDict()].map(([k, t]) => [k, { dtype: 'F32', shape: t.shape, data: t.dataSync() }]));
writeSafetensors(ckpt, sd, { format: 'pt' });
const copy = new Block();
copy.loadStateDict(readSafetensors(ckpt));
const diff = tf.max(tf.abs(tf.sub(copy.forward(x), block.forward(x)))).dataSync()[0];
console.log(`checkpoint ${ckpt}: ${sd.size} tensors (${[...sd.keys()].slice(0, 3).join(', ')}, ...), reload max diff ${diff}`);

// Images: a gradient made as a tensor, written as PNG, decoded and resized PIL-exactly.
const h = 48, w = 64;
const img = tf.tidy(() => {
  const ys = tf.tile(tf.reshape(tf.linspace(-1, 1, h), [1, 1, h, 1]), [1, 1, 1, w]);
  const xs = tf.tile(tf.reshape(tf.linspace(-1, 1, w), [1, 1, 1, w]), [1, 1, h, 1]);
  return tf.concat([xs, ys, tf.mul(xs, ys)], 1);
});
const png = join(out, 'smoke-gradient.png');
await writeImage(png, tensorToImages(img)[0]);
const decoded = await decodeImage(png);
const small = resize(decoded, 32, 24, 'bicubic');
const back = imageToTensor([small]);
console.log(`image ${png}: ${decoded.width}x${decoded.height} -> bicubic ${small.width}x${small.height}, tensor [${back.shape}]`);
console.log(`PNG bytes: ${(await encodeImage(small, 'png')).length}`);
console.log(`smoke run done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
