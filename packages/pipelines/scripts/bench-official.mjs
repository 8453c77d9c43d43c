/**
 * MIGE at its published size on this machine (issue 48), in one run:
 *   1. generates random-weight checkpoints of official size in the official layouts (HF
 *      t5-v1_1-xxl encoder in safetensors shards, LAVIS eva_vit_g.pth in fp16, LAVIS BLIP-2
 *      {'model': ...}, MIGE's model.pth {'state_dict': DiT-XL/2 + FFM + t5_proj}, sd-vae-ft-ema's
 *      diffusers folder with its pre-0.14 .bin), with python3-torch (scripts/bench/make_official_checkpoints.py);
 *   2. converts them with convertToOnnx (what `mige convert --onnx` runs), streaming tensor by tensor;
 *   3. runs a 512 px compose edit (a source and one subject image, 3-branch guidance) at 20
 *      DPM-Solver++ steps on the staged ONNX Runtime (loadOnnxModel), timing every session load
 *      and run and the peak RSS of each stage (VmHWM, reset at every session event);
 *   4. measures ORT's MatMul peak (bench-common.mjs) in the same run, for the DiT's share of it.
 * Writes bench-results/official.json atomically. The checkpoints (~24 GB) are deleted once
 * converted; the converted folder (~13 GB in fp16) with the work folder at the end, unless --keep.
 *
 *   pnpm bench:official                      (from the repo root; builds first)
 *   node scripts/bench-official.mjs --quick  smoke run: mige-tiny sizes, 2 steps, seconds
 *   node scripts/bench-official.mjs --parts convert --keep --work <dir>, later
 *   node scripts/bench-official.mjs --parts edit --work <dir>   the edit again on a kept conversion
 *                                            (the file keeps the other part's last result)
 *   options: --work <dir> (default: a folder under the OS temp dir) --keep --dtype fp16|fp32
 *            --threads <n> (default: every core) --steps <n> --out <file.json>
 *            --python <path> (default: $MIGE_PYTHON or /usr/bin/python3)
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync, readdirSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { initBackend, Rng, tf, writeTextFileAtomic } from '@mige/core';
import { forwardFlops } from '@mige/dit';
import { toDiffusersVaeConfig, vaeFlops } from '@mige/vae';
import { machine, median, openMatmulProbe } from './bench-common.mjs';
import { compose, convertToOnnx, detachOnnx, loadOnnxModel, MIGE_TINY, MIGE_XL, MigeModel, openCheckpointWeights } from '../dist/index.js';
import { attachedOnnxEngine, captionLength, tinyTokenizerPath } from '../dist/internal.js';
import { T5Tokenizer } from '@mige/encoder';

const here = dirname(fileURLToPath(import.meta.url));
const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean' }, keep: { type: 'boolean' }, work: { type: 'string' }, dtype: { type: 'string' }, threads: { type: 'string' },
    steps: { type: 'string' }, out: { type: 'string' }, python: { type: 'string' }, parts: { type: 'string' },
  },
});
const parts = (args.parts ?? 'convert,edit').split(',');
if (parts.some((p) => p !== 'convert' && p !== 'edit')) throw new Error(`--parts takes convert and/or edit, got ${JSON.stringify(args.parts)}`);
if (!parts.includes('convert') && args.work === undefined) throw new Error('--parts edit needs --work <dir> with a conversion kept by an earlier --keep run');
const quick = args.quick === true;
const config = quick ? MIGE_TINY : MIGE_XL;
const dtype = args.dtype ?? 'fp16';
if (dtype !== 'fp16' && dtype !== 'fp32') throw new Error(`--dtype takes fp16 or fp32, got ${dtype}`);
const threads = Number(args.threads ?? os.cpus().length);
const steps = Number(args.steps ?? (quick ? 2 : 20));
const python = args.python ?? process.env.MIGE_PYTHON ?? '/usr/bin/python3';
const out = resolve(args.out ?? join(here, '..', '..', '..', 'bench-results', quick ? 'official-quick.json' : 'official.json'));
const work = resolve(args.work ?? join(os.tmpdir(), `mige-bench-official-${process.pid}`));
const log = (line) => process.stderr.write(`[bench:official] ${line}\n`);
const GiB = 2 ** 30;

// ---- memory: VmRSS / VmHWM of this process; writing 5 to clear_refs resets the high-water mark --
function status(key) {
  const m = new RegExp(`${key}:\\s+(\\d+) kB`).exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}
function resetPeak() {
  writeFileSync('/proc/self/clear_refs', '5');
}
const peakRss = () => status('VmHWM');

/**
 * The tokenizer: t5-v1_1-xxl's spiece.model cannot be downloaded here, so the shipped tiny
 * tokenizer's pieces, then unused filler pieces up to T5's size (32,100 tokens for a 32,128-row
 * embedding), then its 100 extra ids. The model checks that a tokenizer fits its embedding
 * (config-bounds), and the sequence is padded to maxLength either way, so the compute is the real one.
 */
function benchTokenizerPath() {
  const json = JSON.parse(readFileSync(tinyTokenizerPath(), 'utf8'));
  const vocab = json.model.vocab;
  const size = Math.max(vocab.length, config.encoder.t5.vocabSize - (config.encoder.t5.vocabSize % 128 === 0 ? 28 : 0));
  const extra = vocab.length - 100;
  const filler = Array.from({ length: size - vocab.length }, (_, i) => [`\u2581zzfiller${i}`, -1e4]);
  json.model.vocab = [...vocab.slice(0, extra), ...filler, ...vocab.slice(extra)];
  for (const t of json.added_tokens) if (t.id >= extra) t.id += filler.length;
  mkdirSync(work, { recursive: true });
  const path = join(work, 'tokenizer.json');
  writeFileSync(path, JSON.stringify(json));
  return path;
}
const tokenizerPath = benchTokenizerPath();

// ---- 1. checkpoints in the official layouts ---------------------------------------------------------
/** Official names → each published piece's file, names and storage (the inverse of the converter's mappings). */
function checkpointSpec(dir) {
  const skeleton = MigeModel.skeleton(config, T5Tokenizer.fromTokenizerJson(tokenizerPath));
  const shapes = new Map([...skeleton.stateDict()].filter(([k]) => k !== 't5_model.encoder.embed_tokens.weight').map(([k, t]) => [k, [...t.shape]]));
  const take = (test) => [...shapes].filter(([k]) => test(k));
  const strip = (prefix, entries) => entries.map(([k, s]) => [k.slice(prefix.length), s]);
  const files = [];
  const json = [];
  // HF t5-v1_1-xxl (encoder): config.json + fp32 shards of about 5 GB.
  const t5 = strip('t5_model.', take((k) => k.startsWith('t5_model.')));
  const t5Dir = join(dir, 't5-v1_1-xxl');
  const shards = [];
  let size = Infinity;
  for (const entry of t5) {
    const bytes = 4 * entry[1].reduce((a, b) => a * b, 1);
    if (size + bytes > 5 * GiB) {
      shards.push([]);
      size = 0;
    }
    shards.at(-1).push(entry);
    size += bytes;
  }
  const weightMap = {};
  shards.forEach((tensors, i) => {
    const file = `model-${String(i + 1).padStart(5, '0')}-of-${String(shards.length).padStart(5, '0')}.safetensors`;
    files.push({ path: join(t5Dir, file), format: 'safetensors', wrap: null, dtype: 'F32', tensors });
    for (const [k] of tensors) weightMap[k] = file;
  });
  const c5 = config.encoder.t5;
  json.push({ path: join(t5Dir, 'config.json'), value: {
    architectures: ['T5EncoderModel'], model_type: 't5', vocab_size: c5.vocabSize, d_model: c5.dModel, d_kv: c5.dKv, d_ff: c5.dFf, num_layers: c5.numLayers,
    num_heads: c5.numHeads, relative_attention_num_buckets: c5.numBuckets, relative_attention_max_distance: c5.maxDistance, layer_norm_epsilon: c5.layerNormEps,
    feed_forward_proj: 'gated-gelu', torch_dtype: 'float32' } });
  json.push({ path: join(t5Dir, 'model.safetensors.index.json'), value: { metadata: { total_size: t5.reduce((n, [, s]) => n + 4 * s.reduce((a, b) => a * b, 1), 0) }, weight_map: weightMap } });
  // LAVIS eva_vit_g.pth: flat, fp16, 40 blocks (LAVIS builds 39).
  const eva = strip('visual_encoder.', take((k) => k.startsWith('visual_encoder.')));
  const last = config.encoder.vision.depth - 1;
  const extra = eva.filter(([k]) => k.startsWith(`blocks.${last}.`)).map(([k, s]) => [k.replace(`blocks.${last}.`, `blocks.${last + 1}.`), s]);
  files.push({ path: join(dir, 'eva_vit_g.pth'), format: 'pth', wrap: null, dtype: 'F16', tensors: [...eva, ...extra] });
  // LAVIS BLIP-2 {'model': ...}: ln_vision, the Q-Former with its text path (MIGE prunes it), query_tokens, the heads.
  const q = config.encoder.qformer;
  const textPath = [['Qformer.bert.embeddings.word_embeddings.weight', [30523, q.hiddenSize]], ['Qformer.bert.embeddings.position_embeddings.weight', [512, q.hiddenSize]]];
  for (let i = 0; i < q.numLayers; i++) {
    const p = `Qformer.bert.encoder.layer.${i}`;
    textPath.push([`${p}.intermediate.dense.weight`, [q.intermediateSize, q.hiddenSize]], [`${p}.intermediate.dense.bias`, [q.intermediateSize]]);
    textPath.push([`${p}.output.dense.weight`, [q.hiddenSize, q.intermediateSize]], [`${p}.output.dense.bias`, [q.hiddenSize]], [`${p}.output.LayerNorm.weight`, [q.hiddenSize]], [`${p}.output.LayerNorm.bias`, [q.hiddenSize]]);
  }
  const heads = [['vision_proj.weight', [256, q.hiddenSize]], ['vision_proj.bias', [256]], ['text_proj.weight', [256, q.hiddenSize]], ['text_proj.bias', [256]], ['itm_head.weight', [2, q.hiddenSize]], ['itm_head.bias', [2]]];
  const blip2 = take((k) => k.startsWith('ln_vision.') || k.startsWith('Qformer.') || k === 'query_tokens');
  files.push({ path: join(dir, 'blip2_pretrained.pth'), format: 'pth', wrap: 'model', dtype: 'F32', tensors: [...blip2, ...textPath, ...heads] });
  // MIGE's model.pth {'state_dict': ...}: what only MIGE trained (the DiT, FFM, t5_proj).
  const taken = new Set([...t5.map(([k]) => `t5_model.${k}`), ...eva.map(([k]) => `visual_encoder.${k}`), ...blip2.map(([k]) => k)]);
  files.push({ path: join(dir, 'model.pth'), format: 'pth', wrap: 'state_dict', dtype: 'F32', tensors: [...shapes].filter(([k]) => !taken.has(k)) });
  // sd-vae-ft-ema: a diffusers folder whose .bin names the mid-block attention as before diffusers 0.14.
  const legacy = { to_q: 'query', to_k: 'key', to_v: 'value', 'to_out.0': 'proj_attn' };
  const vae = [...skeleton.vae.stateDict()].map(([k, t]) => [k.replace(/\.attentions\.(\d+)\.(to_q|to_k|to_v|to_out\.0)\./, (_, i, n) => `.attentions.${i}.${legacy[n]}.`), [...t.shape]]);
  files.push({ path: join(dir, 'sd-vae-ft-ema', 'diffusion_pytorch_model.bin'), format: 'pth', wrap: null, dtype: 'F32', tensors: vae });
  json.push({ path: join(dir, 'sd-vae-ft-ema', 'config.json'), value: toDiffusersVaeConfig(config.vae) });
  skeleton.dispose();
  return { spec: { files, json }, sources: { t5: t5Dir, eva: join(dir, 'eva_vit_g.pth'), blip2: join(dir, 'blip2_pretrained.pth'), mige: join(dir, 'model.pth'), vae: join(dir, 'sd-vae-ft-ema') } };
}

function run(command, argv) {
  return new Promise((done, fail) => {
    const child = spawn(command, argv, { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.on('error', fail);
    child.on('close', (code) => (code === 0 ? done(stdout) : fail(new Error(`${command} ${argv.join(' ')} exited with ${code}`))));
  });
}

function folderBytes(dir) {
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).reduce((n, e) => n + statSync(join(e.parentPath, e.name)).size, 0);
}

// ---- 3. the edit's images -------------------------------------------------------------------------
function picture(size, seed) {
  const rng = new Rng(seed);
  const data = new Uint8Array(size * size * 3);
  const [r, g, b] = [rng.uniform() * 255, rng.uniform() * 255, rng.uniform() * 255];
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) {
    const inside = x > size / 4 && x < (3 * size) / 4 && y > size / 4 && y < (3 * size) / 4;
    data.set(inside ? [r, g, b] : [(x * 255) / size, (y * 255) / size, 128], (y * size + x) * 3);
  }
  return { width: size, height: size, data };
}

/** Which stage of the edit a session event belongs to. */
const STAGE = { 'vae-encoder': 'vaeEncode', vit: 'imageEncoder', qformer: 'imageEncoder', ffm: 'imageEncoder', 't5-proj': 'imageEncoder', 't5-embed': 't5', 't5-encoder': 't5', dit: 'dit', 'vae-decoder': 'vaeDecode' };

async function main() {
  const load = os.loadavg();
  log(`load average ${load.map((l) => l.toFixed(1)).join(' ')} on ${os.cpus().length} cores; work folder ${work}`);
  await initBackend({ backend: 'wasm', log: null });
  mkdirSync(work, { recursive: true });
  // A run of one part keeps the other part's last result.
  let previous = {};
  try {
    previous = JSON.parse(readFileSync(out, 'utf8'));
  } catch {
    // no earlier result
  }
  // An earlier run's error is not this run's: it is dropped, and set again if this run fails.
  const { error: _earlier, ...kept } = previous;
  const result = { ...kept, config: config.name, dtype, machine: machine(), glibcTunables: process.env.GLIBC_TUNABLES ?? null, loadAverageBefore: load };
  const converted = join(work, 'mige-xl-onnx');
  try {
    if (parts.includes('convert')) result.conversion = await convert(converted);
    if (parts.includes('edit')) Object.assign(result, await editRun(converted));
    result.targets = targets(result);
  } catch (error) {
    result.error = error instanceof Error ? error.message : String(error);
    throw error;
  } finally {
    result.loadAverageAfter = os.loadavg();
    if (!args.keep) rmSync(work, { recursive: true, force: true });
    mkdirSync(dirname(out), { recursive: true });
    writeTextFileAtomic(out, `${JSON.stringify(result, null, 2)}\n`);
    log(`wrote ${out}${args.keep ? `; kept ${work}` : ''}`);
  }
}

/** Checkpoints generated, converted by streaming, deleted. */
async function convert(converted) {
  const pieces = join(work, 'checkpoints');
  const { spec, sources } = checkpointSpec(pieces);
  const specPath = join(work, 'spec.json');
  writeFileSync(specPath, JSON.stringify(spec));
  try {
    const generated = JSON.parse((await run(python, [join(here, 'bench', 'make_official_checkpoints.py'), specPath])).trim().split('\n').at(-1));
    log(`checkpoints: ${(generated.bytes / GiB).toFixed(1)} GiB in ${generated.seconds.toFixed(0)} s`);
    rmSync(converted, { recursive: true, force: true });
    const before = status('VmRSS');
    resetPeak();
    const t0 = performance.now();
    let shown = 0;
    const manifest = await convertToOnnx(openCheckpointWeights({ config, tokenizer: tokenizerPath, ...sources }), converted, {
      dtype,
      onProgress: (e) => {
        if (e.elapsedMs - shown < 30_000 && e.step < e.total) return;
        shown = e.elapsedMs;
        log(`convert ${e.step}/${e.total} tensors, ${(e.elapsedMs / 1000).toFixed(0)} s`);
      },
    });
    const conversion = {
      date: new Date().toISOString(),
      seconds: (performance.now() - t0) / 1000,
      peakRssBytes: peakRss(),
      rssBeforeBytes: before,
      readBytes: generated.bytes,
      writtenBytes: folderBytes(converted),
      components: Object.fromEntries(Object.entries(manifest.components).map(([c, e]) => [c, (e.parts ?? [e]).length])),
      checkpoints: {
        seconds: generated.seconds, bytes: generated.bytes, generatorPeakRssBytes: generated.peakRssBytes,
        files: spec.files.map((f) => ({ path: f.path.slice(pieces.length + 1), format: f.format, dtype: f.dtype, tensors: f.tensors.length })),
      },
    };
    log(`conversion: ${conversion.seconds.toFixed(0)} s, peak RSS ${(conversion.peakRssBytes / GiB).toFixed(2)} GiB`);
    return conversion;
  } finally {
    rmSync(pieces, { recursive: true, force: true });
  }
}

/**
 * The 512 px compose edit on the staged runtime. The MatMul peak is measured in the same run:
 * before and after the edit, and right before every DiT step (a short probe, its time taken out
 * of the edit's), so each step is compared with the ceiling of its own moment: the machine is
 * shared, and other work slows both alike.
 */
async function editRun(converted) {
  const probe = await openMatmulProbe(threads, quick ? { n: 256, chain: 2 } : {});
  try {
    const peak = await probe.measure(quick ? 1 : 5);
    log(`ORT MatMul peak before the edit, ${threads} threads: ${peak.gflops.toFixed(1)} GFLOP/s`);
    const events = [];
    const stagePeak = {};
    resetPeak();
    const onEvent = (e) => {
      const stage = STAGE[e.component];
      stagePeak[stage] = Math.max(stagePeak[stage] ?? 0, peakRss());
      resetPeak();
      events.push({ ...e, stage, rssBytes: status('VmRSS') });
    };
    const t0 = performance.now();
    const model = await loadOnnxModel(converted, { onEvent, sessionOptions: { intraOpNumThreads: threads, interOpNumThreads: 1 } });
    const base = await attachedOnnxEngine(model);
    const stepPeaks = [];
    // The caption tokens each step's DiT runs on (the engine drops the padding every row shares).
    const stepCaption = [];
    let probeMs = 0;
    const engine = {
      name: base.name, sessions: base.sessions, release: () => base.release(),
      vaeEncode: (images) => base.vaeEncode(images), encode: (inputs) => base.encode(inputs), vaeDecode: (latents) => base.vaeDecode(latents),
      denoiseStep(input) {
        // Kept past the sampler's tidy (as the engine itself does), for the probe to run first.
        const kept = tf.tidy(() => Object.fromEntries(Object.entries(input).map(([k, t]) => [k, tf.keep(tf.clone(t))])));
        return (async () => {
          const t = performance.now();
          stepPeaks.push((await probe.measure(2)).gflops);
          stepCaption.push(captionLength(kept.mask));
          probeMs += performance.now() - t;
          try {
            return await base.denoiseStep(kept);
          } finally {
            tf.dispose(Object.values(kept));
          }
        })();
      },
    };
    const size = config.imageSize;
    const request = { instruction: 'in <imagehere>, replace the square with <imagehere>', source: picture(size, 1), subjects: [picture(size, 2)] };
    let editPeak = 0;
    const sampler = setInterval(() => (editPeak = Math.max(editPeak, status('VmRSS'))), 200);
    let images;
    try {
      images = await compose(model, request, { steps, seed: 0, sampler: { type: 'dpm-solver', order: 2 }, engine });
    } finally {
      clearInterval(sampler);
    }
    const editSeconds = (performance.now() - t0 - probeMs) / 1000;
    const remaining = peakRss();
    await detachOnnx(model);
    model.dispose();
    images.tensor.dispose();
    editPeak = Math.max(editPeak, remaining, ...Object.values(stagePeak));
    const after = await probe.measure(quick ? 1 : 5);
    log(`ORT MatMul peak after the edit: ${after.gflops.toFixed(1)} GFLOP/s`);

    // Per stage: session loads, runs and releases; the DiT's runs are its guided steps (3 rows each).
    const stages = {};
    for (const e of events) {
      const s = (stages[e.stage] ??= { loadSeconds: 0, runSeconds: 0, releaseSeconds: 0, sessions: 0, runs: 0 });
      s[`${e.phase}Seconds`] += e.ms / 1000;
      if (e.phase === 'load') s.sessions++;
      if (e.phase === 'run') s.runs++;
    }
    for (const [k, s] of Object.entries(stages)) Object.assign(s, { seconds: s.loadSeconds + s.runSeconds + s.releaseSeconds, peakRssBytes: stagePeak[k] });
    const ditRuns = events.filter((e) => e.component === 'dit' && e.phase === 'run').map((e) => e.ms / 1000);
    // FLOPs of the work done: at the caption length each step ran (padding dropped), 3 rows.
    const stepFlop = ditRuns.map((_, i) => forwardFlops(config.backbone, 3, stepCaption[i] ?? config.encoder.maxLength));
    const flopPerStep = median(stepFlop);
    const ditFlop = stepFlop.reduce((a, b) => a + b, 0);
    const ditGflops = ditFlop / ditRuns.reduce((a, b) => a + b, 0) / 1e9;
    const shares = ditRuns.map((s, i) => stepFlop[i] / s / 1e9 / stepPeaks[i]);
    const imageCount = 2; // the source and the subject
    const vae = vaeFlops(config.vae, size, size);
    Object.assign(stages.dit, {
      steps: ditRuns.length, stepMedianSeconds: median(ditRuns), stepsSeconds: ditRuns, captionLengths: stepCaption, flopPerStep, gflops: ditGflops,
      matmulPeakBeforeEachStep: stepPeaks, shareOfMatmulPeakPerStep: shares, shareOfMatmulPeak: median(shares),
    });
    if (stages.imageEncoder) stages.imageEncoder.secondsPerImage = stages.imageEncoder.seconds / imageCount;
    if (stages.vaeEncode) stages.vaeEncode.flop = imageCount * vae.encode;
    if (stages.vaeDecode) stages.vaeDecode.flop = vae.decode;
    const ceiling = median([peak.gflops, ...stepPeaks, after.gflops]);
    log(`edit: ${editSeconds.toFixed(1)} s, peak RSS ${(editPeak / GiB).toFixed(2)} GiB; DiT step ${median(ditRuns).toFixed(2)} s, ${ditGflops.toFixed(1)} GFLOP/s, ${(100 * median(shares)).toFixed(0)}% of the peak measured before each step (median)`);
    return {
      matmulPeak: { ...peak, gflops: ceiling, before: peak.gflops, after: after.gflops, definition: 'the median of the measurements before the edit, before each DiT step and after the edit' },
      edit: {
        date: new Date().toISOString(), threads,
        flow: 'compose (source + 1 subject, 3-branch guidance)', size, steps, sampler: 'DPM-Solver++ order 2', seconds: editSeconds, probeSecondsExcluded: probeMs / 1000, peakRssBytes: editPeak, ditFlop,
        stages, events: events.map(({ phase, component, blocks, ms, rssBytes }) => ({ phase, component, ...(blocks ? { blocks } : {}), ms: Math.round(ms), rssBytes })),
        tokenizer: `the shipped tiny tokenizer's pieces padded with unused pieces to the embedding's size: the sequence is padded to maxLength (${config.encoder.maxLength}) either way, so the compute is the real one`,
      },
    };
  } finally {
    await probe.release();
  }
}

/** The issue's targets, from whatever parts the file holds. */
function targets(r) {
  const e = r.edit;
  if (!e || !r.matmulPeak) return undefined;
  const encoderStages = ['vaeEncode', 'imageEncoder', 't5', 'vaeDecode'].reduce((n, k) => n + (e.stages[k]?.seconds ?? 0), 0);
  const bound = 1.2 * (e.ditFlop / (r.matmulPeak.gflops * 1e9) + encoderStages);
  const dit = e.stages.dit;
  // The fastest step against the highest MatMul measurement of the run: what the machine does
  // when nothing else runs (each step's own share is in shareOfMatmulPeakPerStep).
  const bestShare = dit.flopPerStep / Math.min(...dit.stepsSeconds) / 1e9 / Math.max(r.matmulPeak.before, r.matmulPeak.after, ...dit.matmulPeakBeforeEachStep);
  return {
    peakRssBelow20GiB: Math.max(e.peakRssBytes, r.conversion?.peakRssBytes ?? 0) <= 20 * GiB,
    ditShareOfPeakMedianStep: dit.shareOfMatmulPeak,
    ditShareOfPeakBestStep: bestShare,
    ditAtLeast85PercentOfPeak: { medianStep: dit.shareOfMatmulPeak >= 0.85, bestStep: bestShare >= 0.85 },
    editWithinBound: e.seconds <= bound,
    editBoundSeconds: bound,
    editBoundDefinition: '1.2 × (DiT FLOPs of the edit / the measured MatMul peak + the measured encoder stages: VAE encode, ViT/Q-Former/FFM/t5_proj, T5, VAE decode)',
  };
}

await main();
