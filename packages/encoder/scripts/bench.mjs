// Encoder timing per MIGE instruction (4 image slots, T5 on 256 tokens as MIGE pads), random
// weights, on the active backend (MIGE_BACKEND, default wasm). Run from packages/encoder with
//   GLIBC_TUNABLES=... npx tsx scripts/bench.mjs [tiny|g|qformer|t5xxl-block|all]
// It imports the TypeScript sources through tsx, so it needs no build.
//
// Full-size limits: EVA ViT-g is ~1.0B parameters (3.9 GB fp32) and the T5-XXL encoder 4.7B
// (~19 GB fp32); tfjs-wasm's heap stops at 4 GB, so neither fits whole. They are timed on a few
// blocks and scaled to the full depth.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initBackend, nn, tf } from '@mige/core';
import {
  BLIP2_QFORMER, createT5Proj, EVA_VIT_G, EVA_VIT_TINY, QFormer, QFORMER_TINY, T5_TINY, T5_V1_1_XXL, T5Encoder, VisionEncoder,
} from '../src/models/index.ts';

const BACKEND = process.env.MIGE_BACKEND ?? 'wasm';
const SLOTS = 4;
const T5_TOKENS = 256;
const what = process.argv[2] ?? 'all';

/** withoutInit then one uniform draw per parameter: far faster than the seeded init. */
function build(make) {
  const m = nn.withoutInit(make);
  for (const p of m.parameters()) tf.tidy(() => p.assign(tf.randomUniform(p.shape, -0.02, 0.02)));
  return m;
}

/** Median of `runs` timed calls after one warm-up, in ms. */
async function time(fn, runs = 3) {
  const ms = [];
  for (let i = 0; i <= runs; i++) {
    const t0 = performance.now();
    const out = tf.tidy(fn);
    await out.data();
    out.dispose();
    if (i > 0) ms.push(performance.now() - t0);
  }
  ms.sort((a, b) => a - b);
  return Math.round(ms[Math.floor(ms.length / 2)]);
}

const wasmHeap = () => (tf.getBackend() === 'wasm' ? `${(tf.backend().wasm.HEAPU8.buffer.byteLength / 2 ** 30).toFixed(2)} GiB` : 'n/a');

await initBackend({ backend: BACKEND, log: null });
/** Everything measured, written to bench-results/encoder.json at the end. */
const results = {};
console.log(`backend ${tf.getBackend()}`);

if (what === 'tiny' || what === 'all') {
  const vision = build(() => new VisionEncoder(EVA_VIT_TINY));
  const qformer = build(() => new QFormer(QFORMER_TINY));
  const proj = build(() => createT5Proj(QFORMER_TINY.hiddenSize, T5_TINY.dModel));
  const t5 = build(() => new T5Encoder(T5_TINY));
  const images = tf.randomUniform([SLOTS, 3, EVA_VIT_TINY.imgSize, EVA_VIT_TINY.imgSize], -1, 1);
  const mask = tf.ones([1, 32]);
  const ms = await time(() => {
    const q = proj.forward(qformer.forward(vision.forward(images)));
    const embeds = tf.concat([tf.reshape(q, [1, -1, T5_TINY.dModel]), tf.zeros([1, 32 - SLOTS * QFORMER_TINY.numQueryTokens, T5_TINY.dModel])], 1);
    return t5.forward({ inputsEmbeds: embeds, attentionMask: mask });
  }, 10);
  results.tinyPerInstructionMs = ms;
  console.log(`tiny presets: ${ms} ms per instruction (ViT + ln_vision + Q-Former on ${SLOTS} images, t5_proj, T5 on 32 tokens)`);
}

if (what === 'g' || what === 'all') {
  // A few of ViT-g's 39 blocks, scaled: the blocks are identical and dominate the cost.
  const depth = 3;
  const vision = build(() => new VisionEncoder({ ...EVA_VIT_G, depth }));
  const images = tf.randomUniform([SLOTS, 3, 224, 224], -1, 1);
  const ms = await time(() => vision.forward(images), 2);
  results.evaVitG = { blocks: depth, images: SLOTS, ms, scaledFullDepthMs: Math.round((ms * EVA_VIT_G.depth) / depth), fitsWasmHeap: false };
  console.log(`EVA ViT-g: ${ms} ms for ${depth} blocks on ${SLOTS} images → ~${Math.round((ms * EVA_VIT_G.depth) / depth)} ms per instruction for all ${EVA_VIT_G.depth} (wasm heap ${wasmHeap()}; the full ViT-g needs 3.9 GB of fp32 weights)`);
  vision.dispose();
}

if (what === 'qformer' || what === 'all') {
  const qformer = build(() => new QFormer(BLIP2_QFORMER));
  const embeds = tf.randomNormal([SLOTS, 257, EVA_VIT_G.embedDim]);
  const ms = await time(() => qformer.forward(embeds), 3);
  results.qformerMs = ms;
  console.log(`BLIP-2 Q-Former: ${ms} ms per instruction (${SLOTS} images × 257 tokens → 32 queries)`);
  qformer.dispose();
}

if (what === 't5xxl-block' || what === 'all') {
  // One XXL block (193M parameters); the 24-block encoder (4.7B, ~19 GB fp32) cannot be held in
  // tfjs-wasm's 4 GB heap.
  const t5 = build(() => new T5Encoder({ ...T5_V1_1_XXL, numLayers: 1, vocabSize: 8 }));
  const embeds = tf.randomNormal([1, T5_TOKENS, T5_V1_1_XXL.dModel]);
  const ms = await time(() => t5.forward({ inputsEmbeds: embeds }), 2);
  results.t5xxl = { tokens: T5_TOKENS, msPerBlock: ms, scaled24BlocksMs: ms * T5_V1_1_XXL.numLayers, fitsWasmHeap: false, weightsGB: 19 };
  console.log(`T5-XXL: ${ms} ms per block at ${T5_TOKENS} tokens → ~${ms * T5_V1_1_XXL.numLayers} ms for 24 blocks, if the 19 GB of weights could be held (they cannot on wasm)`);
  t5.dispose();
}

const out = join(dirname(fileURLToPath(import.meta.url)), '../../../bench-results/encoder.json');
mkdirSync(dirname(out), { recursive: true });
const record = {
  benchmark: 'MIGE instruction encoder, random weights, one instruction with 4 image slots',
  backend: tf.getBackend(),
  date: new Date().toISOString(),
  machine: { cpu: cpus()[0]?.model, cores: cpus().length, node: process.version },
  ...results,
};
writeFileSync(out + '.tmp', JSON.stringify(record, null, 2) + '\n');
renameSync(out + '.tmp', out);
console.log(`wrote ${out}`);
