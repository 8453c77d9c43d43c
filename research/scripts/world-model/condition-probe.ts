/**
 * What the condition y knows, and where the DiT looks in it (issue 45's diagnosis).
 *
 * 1. Linear probes (ridge classifiers, 70/30 split, accuracy against the majority class) on the
 *    T5 encoder's output y, for world cases of each task:
 *    - the named object's shape, colour and region (for edits: its place in the source, which
 *      only the source image tokens tell: "binding" the word to the picture);
 *    - the subject's shape (compose tasks: the subject image's tokens);
 *    features: y mean-pooled over the content tokens, y at the shape word's first token, and the
 *    same two from the T5 input (text embeddings + image tokens, before T5 mixes them), and the
 *    caption embedding the DiT's cross-attention reads (y_embedder(y)) at the word.
 * 2. Cross-attention mass: at timestep t (the target noised, the source as condition), the share
 *    of each block's cross-attention from the image tokens over the edited object to the shape
 *    word, the colour word, the image slots and the rest, against the share a uniform attention
 *    would give; and for edits of one object among several, the same share from the tokens over
 *    the other objects (binding in the DiT: the named object's tokens should look at the word
 *    more than the others').
 *
 *   npx tsx ../../research/scripts/world-model/condition-probe.ts --model ../model-world --count 150 [--random 1] [--t 500]
 */
import { Rng, tf } from '@mige/core';
import type { CrossAttention, PixArtDiT } from '@mige/dit';
import { planSequence, planTokenIds, validateInstruction } from '@mige/encoder';
import { COLOR_NAMES, regionName, SHAPE_NAMES, streamExamples, type ObjectAnnotation, type WorldExample, type WorldTask } from '@mige/data';
import { ddpmTables, linearBetas } from '../../../packages/pipelines/src/diffusion/index.js';
import { loadModel, MIGE_XL, MigeModel } from '../../../packages/pipelines/src/model/index.js';
import { datasetFromWorld, prepareTrainBatch, disposeTrainBatch, TRAIN_TASKS } from '../../../packages/pipelines/src/train/index.js';
import { args, start } from '../../../packages/pipelines/scripts/world-model/common.js';

const a = args({ model: '../model-world', count: '150', seed: '4242', random: '0', t: '500', chunk: '16' });
await start();
let model = await loadModel(a.model);
if (a.random === '1') {
  // Control: the same frozen VAE / ViT, everything else at its initialisation.
  const fresh = MigeModel.create(model.config, { seed: 1, tokenizer: model.tokenizer });
  const keep = new Map([...model.stateDict()].filter(([k]) => k.startsWith('visual_encoder.')));
  fresh.loadStateDict(keep, { strict: false, source: 'trained ViT' });
  fresh.vae.loadStateDict(model.vae.stateDict(), { strict: true, source: 'trained VAE' });
  // assemble.ts's PixArt-XL gains, as every run of the default model starts.
  const { hiddenSize: d, captionChannels: c } = fresh.config.backbone;
  const gains: Record<string, number> = { 'y_embedder.y_proj.fc1.weight': MIGE_XL.backbone.captionChannels / c, 'y_embedder.y_proj.fc2.weight': MIGE_XL.backbone.hiddenSize / d, 't_embedder.mlp.2.weight': MIGE_XL.backbone.hiddenSize / d, 't_block.1.weight': MIGE_XL.backbone.hiddenSize / d };
  for (const [name, p] of fresh.namedParameters()) if (gains[name]) p.assign(tf.mul(p, Math.sqrt(gains[name])));
  model.dispose();
  model = fresh;
}
const TASKS: WorldTask[] = ['add', 'remove', 'recolor', 'move', 'resize', 'compose_add', 'compose_replace', 'subject'];
const count = Number(a.count);
const per = new Map<WorldTask, WorldExample[]>(TASKS.map((t) => [t, []]));
for (const ex of streamExamples({ seed: Number(a.seed), count: count * 12, size: model.config.imageSize })) {
  const list = per.get(ex.task);
  if (list && list.length < count) list.push(ex);
  if ([...per.values()].every((l) => l.length >= count)) break;
}

const CANVAS = model.config.imageSize;
const regionOf = (o: ObjectAnnotation) => regionName(o.bbox[0] + o.bbox[2] / 2, o.bbox[1] + o.bbox[3] / 2, CANVAS, CANVAS);
/** The object the instruction names (by shape word) and, for compositions, the subject image's object. */
function named(ex: WorldExample): { obj: ObjectAnnotation; subject?: ObjectAnnotation; others: ObjectAnnotation[] } {
  const e = ex.annotations.edit;
  const src = ex.annotations.source?.objects ?? [];
  const tgt = ex.annotations.target.objects;
  switch (ex.task) {
    case 'add': return { obj: tgt[e.object as number]!, others: src };
    case 'compose_add': return { obj: src[e.anchor as number]!, subject: tgt[e.object as number]!, others: src.filter((_, i) => i !== e.anchor) };
    case 'compose_replace': return { obj: src[e.object as number]!, subject: tgt[e.object as number]!, others: src.filter((_, i) => i !== e.object) };
    case 'subject': return { obj: tgt[0]!, subject: tgt[0]!, others: tgt.slice(1) };
    default: return { obj: src[e.object as number]!, others: src.filter((_, i) => i !== e.object) };
  }
}

interface Row {
  task: WorldTask;
  pooledY: number[]; wordY: number[] | null; pooledIn: number[]; wordIn: number[] | null; wordCap: number[] | null; subjY: number[] | null;
  /** The subject image's tokens at each stage: ViT (mean), Q-Former (mean of the queries), T5 input (mean over its slot). */
  subjVit: number[] | null; subjQ: number[] | null; subjIn: number[] | null;
  shape: string; color: string; region: string; subjShape: string | null;
  wordPos: number[]; colorPos: number[]; imagePos: number[]; content: number;
}
const rows: Row[] = [];
const sizes = { imageSize: CANVAS, vitSize: model.config.encoder.vision.imgSize };
const perImage = model.config.encoder.qformer.numQueryTokens;
const maxLength = model.config.encoder.maxLength;

/** Positions of `word`'s tokens (first occurrence) in the plan's ids; [] when absent. */
function positionsOf(ids: number[], word: string): number[] {
  const w = model.tokenizer.encode(` ${word}`, { addSpecialTokens: false });
  for (let i = 0; i + w.length <= ids.length; i++) if (w.every((id, j) => ids[i + j] === id)) return w.map((_, j) => i + j);
  return [];
}

// Cross-attention capture: per block, the probabilities [B·heads, N, L] of the last forward.
const dit = model.backbone.module as unknown as PixArtDiT;
const captured: tf.Tensor3D[] = [];
let capture = false;
for (const block of dit.blocks) {
  const ca = block.crossAttn as CrossAttention;
  const orig = ca.forward.bind(ca);
  ca.forward = (x, y, bias) => {
    if (capture) {
      captured.push(tf.tidy(() => {
        const h = ca.numHeads;
        const qh = splitHeads(ca.qLinear.forward(x), h);
        const kh = splitHeads(tf.split(ca.kvLinear.forward(y), 2, -1)[0]!, h);
        const scores = tf.add(tf.mul(tf.matMul(qh, kh, false, true), 1 / Math.sqrt(ca.dim / h)), bias);
        return tf.keep(scores) as tf.Tensor3D;
      }));
    }
    return orig(x, y, bias);
  };
}
function splitHeads(t: tf.Tensor, h: number): tf.Tensor3D {
  const [b, n, d] = t.shape as [number, number, number];
  return tf.reshape(tf.transpose(tf.reshape(t, [b, n, h, d / h]), [0, 2, 1, 3]), [b * h, n, d / h]);
}

const { alphasCumprod } = ddpmTables(linearBetas(1000));
const T = Number(a.t);
const heads = dit.config.numHeads;
const grid = dit.config.inputSize / dit.config.patchSize;
const cell = CANVAS / grid;
/** Token indices whose cell overlaps the box's interior. */
const tokensOver = (b: readonly number[]) => {
  const out: number[] = [];
  for (let r = 0; r < grid; r++) for (let c = 0; c < grid; c++) {
    const ox = Math.min(b[0]! + b[2]!, (c + 1) * cell) - Math.max(b[0]!, c * cell);
    const oy = Math.min(b[1]! + b[3]!, (r + 1) * cell) - Math.max(b[1]!, r * cell);
    if (ox * oy >= (cell * cell) / 4) out.push(r * grid + c);
  }
  return out;
};
// attention tallies: per task, per block: [word, colour, image, uniform-word, others'-tokens-on-word, cases]
const att = new Map<string, number[][]>();

for (const task of TASKS) {
  const list = per.get(task)!;
  for (let s = 0; s < list.length; s += Number(a.chunk)) {
    const chunk = list.slice(s, s + Number(a.chunk));
    const train = await Promise.all(chunk.map((ex) => {
      const ds = datasetFromWorld([ex], sizes);
      return ds.get(TRAIN_TASKS.find((t) => ds.sizes[t] > 0)!, 0);
    }));
    const batch = prepareTrainBatch(model, train, new Rng(`probe/${task}/${s}`), 'mean');
    const opts = { fusion: model.fusion, patchEmbedder: model.backbone.patchEmbedder };
    const emb = model.encoder.embed(batch.inputs, { ...opts, task: 'raw' });
    const { y, mask } = model.encoder.encode(batch.inputs, opts);
    const cap = tf.tidy(() => dit.yEmbedder.forward(y as tf.Tensor3D));
    const [yA, inA, capA] = [await y.array(), await emb.inputsEmbeds.array(), await cap.array()] as [number[][][], number[][][], number[][][]];
    // Cross-attention at timestep T.
    const ab = alphasCumprod[T] as number;
    capture = true;
    tf.tidy(() => {
      const noise = new Rng(`probe-noise/${task}/${s}`).randn(batch.x0.shape);
      const xt = tf.add(tf.mul(batch.x0, Math.sqrt(ab)), tf.mul(noise, Math.sqrt(1 - ab))) as typeof batch.x0;
      model.backbone.forward({ x: xt, cond: batch.cond, t: tf.fill([chunk.length], T), y, mask });
    });
    capture = false;
    const probs = await Promise.all(captured.map((p) => tf.tidy(() => tf.softmax(p)).array()));
    // Sharpness per block: the entropy of each query's attention over the content tokens, as a share of log(content).
    const logits = await Promise.all(captured.map((p) => p.array()));
    tf.dispose(captured.splice(0));
    chunk.forEach((ex, i) => {
      const input = batch.inputs[i]!;
      const prep = validateInstruction({ text: input.text, images: Array.from({ length: input.images.shape[0] }, (_, j) => j) }, { task: input.task ?? 'raw', maxImages: model.config.encoder.maxImages });
      const plan = planSequence(model.tokenizer.encodeSegments(prep.segments), perImage, maxLength);
      const ids = planTokenIds(plan);
      const content = plan.mask.reduce((p, q) => p + q, 0);
      const { obj, subject, others } = named(ex);
      const wordPos = positionsOf(ids, obj.shape);
      const colorPos = positionsOf(ids, obj.color);
      const imagePos = ids.flatMap((id, j) => (id === -1 && j < content ? [j] : []));
      const pool = (m: number[][]) => m[0]!.map((_, d) => m.slice(0, content).reduce((acc, r) => acc + r[d]!, 0) / content);
      // The subject image's slot: the last image slot of a composition, the first of a subject case.
      const slots = plan.spans.filter((sp) => sp.kind === 'image');
      let subjY: number[] | null = null, subjIn: number[] | null = null, subjVit: number[] | null = null, subjQ: number[] | null = null;
      if (subject && slots.length > 0) {
        let pos = 0; const starts: number[] = [];
        for (const sp of plan.spans) { if (sp.kind === 'image') starts.push(pos); pos += sp.kind === 'text' ? sp.ids.length : sp.kind === 'image' ? sp.rows : sp.count; }
        // Compositions: the subject slot is the one that is not the source (entity order follows the template).
        const subjSlot = ex.task === 'subject' ? 0 : ex.entities.findIndex((e) => e !== ex.source);
        const st = starts[subjSlot] ?? starts[0]!;
        const mean = (m: number[][]) => m[0]!.map((_, d) => m.reduce((acc, r) => acc + r[d]!, 0) / m.length);
        subjY = mean(yA[i]!.slice(st, st + perImage));
        subjIn = mean(inA[i]!.slice(st, st + perImage));
        const img = tf.slice(input.images, [Math.max(0, subjSlot), 0, 0, 0], [1, -1, -1, -1]);
        const [vit, qf] = tf.tidy(() => {
          const v = model.encoder.module.vision.forward(img);
          return [tf.mean(v, 1), tf.mean(model.encoder.module.qformer.forward(v), 1)];
        });
        subjVit = [...vit.dataSync()]; subjQ = [...qf.dataSync()];
        tf.dispose([img, vit, qf]);
      }
      rows.push({
        task, pooledY: pool(yA[i]!), wordY: wordPos.length ? yA[i]![wordPos[0]!]! : null, pooledIn: pool(inA[i]!),
        wordIn: wordPos.length ? inA[i]![wordPos[0]!]! : null, wordCap: wordPos.length ? capA[i]![wordPos[0]!]! : null, subjY, subjIn, subjVit, subjQ,
        shape: obj.shape, color: obj.color, region: regionOf(obj), subjShape: subject?.shape ?? null,
        wordPos, colorPos, imagePos, content,
      });
      // Attention from the tokens over the named object (add: where it goes; edits: where it is).
      const own = tokensOver(obj.bbox);
      const otherTok = others.flatMap((o) => tokensOver(o.bbox)).filter((k) => !own.includes(k));
      if (own.length === 0 || wordPos.length === 0) return;
      const tally = att.get(task) ?? [...dit.blocks].map(() => [0, 0, 0, 0, 0, 0, 0, 0, 0]);
      probs.forEach((p, blk) => {
        const massOn = (toks: number[], pos: number[]) => {
          let sum = 0;
          for (let hh = 0; hh < heads; hh++) for (const k of toks) for (const j of pos) sum += (p as number[][][])[i * heads + hh]![k]![j]!;
          return sum / (heads * toks.length);
        };
        const row = tally[blk] as number[];
        row[0]! += massOn(own, wordPos);
        row[1]! += colorPos.length ? massOn(own, colorPos) : 0;
        row[2]! += massOn(own, imagePos);
        row[3]! += wordPos.length / content;
        row[4]! += otherTok.length ? massOn(otherTok, wordPos) : 0;
        row[5]! += otherTok.length ? 1 : 0;
        row[6]! += 1;
        // Entropy (share of the maximum) and the logits' spread over the content tokens, averaged over heads and the object's tokens.
        let ent = 0, spread = 0;
        for (let hh = 0; hh < heads; hh++) for (const k of own) {
          const pr = (p as number[][][])[i * heads + hh]![k]!.slice(0, content);
          ent -= pr.reduce((acc, v) => acc + (v > 0 ? v * Math.log(v) : 0), 0) / Math.log(content);
          const lg = (logits[blk] as number[][][])[i * heads + hh]![k]!.slice(0, content);
          const m = lg.reduce((x, y) => x + y, 0) / content;
          spread += Math.sqrt(lg.reduce((x, y) => x + (y - m) ** 2, 0) / content);
        }
        row[7]! += ent / (heads * own.length);
        row[8]! += spread / (heads * own.length);
      });
      att.set(task, tally);
    });
    tf.dispose([y, mask, cap, emb.inputsEmbeds, emb.mask]);
    disposeTrainBatch(batch);
  }
  console.error(`encoded ${task}`);
}

// ---- ridge probes ------------------------------------------------------------------------------
function solve(A: number[][], B: number[][]): number[][] {
  const n = A.length, m = B[0]!.length;
  const M = A.map((r, i) => [...r, ...B[i]!]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r]![c]!) > Math.abs(M[p]![c]!)) p = r;
    [M[c], M[p]] = [M[p]!, M[c]!];
    const piv = M[c]![c]!;
    for (let j = c; j < n + m; j++) M[c]![j]! /= piv;
    for (let r = 0; r < n; r++) if (r !== c) { const f = M[r]![c]!; if (f) for (let j = c; j < n + m; j++) M[r]![j]! -= f * M[c]![j]!; }
  }
  return M.map((r) => r.slice(n));
}
/** Accuracy of a ridge classifier on a 70/30 split (standardised features), and the majority share. */
function probe(xs: number[][], ys: string[], lambda = 1): [number, number, number] {
  const classes = [...new Set(ys)];
  const n = xs.length, d = xs[0]!.length;
  const order = [...Array(n).keys()].sort((p, q) => ((p * 7919) % 1009) - ((q * 7919) % 1009));
  const cut = Math.floor(n * 0.7);
  const trainIdx = order.slice(0, cut), testIdx = order.slice(cut);
  const mean = Array.from({ length: d }, (_, j) => trainIdx.reduce((s, i) => s + xs[i]![j]!, 0) / cut);
  const sd = Array.from({ length: d }, (_, j) => Math.sqrt(trainIdx.reduce((s, i) => s + (xs[i]![j]! - mean[j]!) ** 2, 0) / cut) || 1);
  const z = (x: number[]) => [...x.map((v, j) => (v - mean[j]!) / sd[j]!), 1];
  const X = trainIdx.map((i) => z(xs[i]!));
  const Y = trainIdx.map((i) => classes.map((c) => (ys[i] === c ? 1 : 0)));
  const XtX = Array.from({ length: d + 1 }, (_, p) => Array.from({ length: d + 1 }, (_, q) => X.reduce((s, r) => s + r[p]! * r[q]!, 0) + (p === q && p < d ? lambda * cut / 100 : 0)));
  const XtY = Array.from({ length: d + 1 }, (_, p) => classes.map((_, c) => X.reduce((s, r, k) => s + r[p]! * Y[k]![c]!, 0)));
  const W = solve(XtX, XtY);
  let right = 0;
  for (const i of testIdx) {
    const f = z(xs[i]!);
    const scores = classes.map((_, c) => f.reduce((s, v, p) => s + v * W[p]![c]!, 0));
    if (classes[scores.indexOf(Math.max(...scores))] === ys[i]) right++;
  }
  const counts = classes.map((c) => testIdx.filter((i) => ys[i] === c).length);
  return [right / testIdx.length, Math.max(...counts) / testIdx.length, testIdx.length];
}
const fmt = ([acc, maj, n]: [number, number, number]) => `${acc.toFixed(2)} (majority ${maj.toFixed(2)}, n ${n})`;
const out: string[] = [`model ${a.model}${a.random === '1' ? ' (random init of all but the VAE / ViT)' : ''}, ${count} cases per task, world seed ${a.seed}`];
out.push(`shapes ${SHAPE_NAMES.length}, colours ${COLOR_NAMES.length}`);
for (const task of TASKS) {
  const r = rows.filter((x) => x.task === task);
  const w = r.filter((x) => x.wordY);
  out.push(`\n${task}: ${r.length} cases, shape word found in ${w.length}, content tokens ${(r.reduce((s, x) => s + x.content, 0) / r.length).toFixed(1)}, truncated ${r.filter((x) => x.content >= maxLength).length}`);
  for (const [label, key] of [['shape', 'shape'], ['colour', 'color'], ['region', 'region']] as const) {
    const parts = [`pooled y ${fmt(probe(r.map((x) => x.pooledY), r.map((x) => x[key])))}`, `pooled T5 input ${fmt(probe(r.map((x) => x.pooledIn), r.map((x) => x[key])))}`];
    if (w.length > 40) parts.push(`y at the word ${fmt(probe(w.map((x) => x.wordY!), w.map((x) => x[key])))}`, `T5 input at the word ${fmt(probe(w.map((x) => x.wordIn!), w.map((x) => x[key])))}`, `caption emb. at the word ${fmt(probe(w.map((x) => x.wordCap!), w.map((x) => x[key])))}`);
    out.push(`  named object's ${label}: ${parts.join('; ')}`);
  }
  const s = r.filter((x) => x.subjY && x.subjShape);
  if (s.length > 40) {
    const by = (f: (x: Row) => number[]) => fmt(probe(s.map(f), s.map((x) => x.subjShape!)));
    out.push(`  subject image's shape: ViT tokens ${by((x) => x.subjVit!)}; Q-Former ${by((x) => x.subjQ!)}; T5 input over its slot ${by((x) => x.subjIn!)}; y over its slot ${by((x) => x.subjY!)}`);
  }
  const tally = att.get(task);
  if (tally) {
    out.push(`  cross-attention at t=${T}, per block (share from the named object's tokens: word / colour word (0 where the instruction has none) / image tokens; uniform share of the word; from other objects' tokens to the word; entropy; logit spread):`);
    tally.forEach((row, b) => out.push(`    block ${b}: ${(row[0]! / row[6]!).toFixed(3)} / ${(row[1]! / row[6]!).toFixed(3)} / ${(row[2]! / row[6]!).toFixed(3)}; uniform ${(row[3]! / row[6]!).toFixed(3)}; others ${row[5] ? (row[4]! / row[5]!).toFixed(3) : '-'}; entropy ${(row[7]! / row[6]!).toFixed(3)} of the maximum, logit spread ${(row[8]! / row[6]!).toFixed(2)}`));
  }
}
console.log(out.join('\n'));
