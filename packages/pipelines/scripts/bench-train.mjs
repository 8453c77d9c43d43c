/**
 * Training engines on this machine, interleaved in one run (issue 44):
 *   1. the default model's training step at batch 8 (VAE encode, frozen ViT, the trainable
 *      encoders, the DiT, the hybrid loss, AdamW with clipping, EMA) on
 *        - TF.js wasm, 1 and 2 workers (`mige train --engine tfjs --workers n`),
 *        - the ONNX Runtime engine, 1 and 2 threads (`mige train --engine onnx --threads n`), and
 *          1 thread with --prefetch (the next batch's data, VAE and ViT on the other core),
 *        - PyTorch (scripts/bench/torch_train_step.py: the same step with the same shapes, 1 and
 *          2 threads; Debian's python3-torch with OpenBLAS),
 *      each contender in a fresh process, in rotating order over several rounds, so that a busy
 *      spell of this shared machine hits every contender alike; medians of the timed steps;
 *   2. DiT-XL/2 at 512 px: one forward + backward of the training graph on ONNX Runtime
 *      (gradients of every parameter), 1 and 2 threads, against ORT's matmul peak measured in the
 *      same run.
 * Writes bench-results/train.json atomically.
 *
 *   node scripts/bench-train.mjs [--rounds 3] [--steps 6] [--warmup 3] [--parts step,dit] [--out f.json]
 *   node scripts/bench-train.mjs --quick         a smoke run (1 round, 2 steps, no DiT-XL)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { addGradients, initBackend, inferShapes, nn, OnnxBuilder, Rng, tf, writeTextFileAtomic } from '@mige/core';
import { datasetFromWorldSeed, loadDefaultModel, train } from '../dist/index.js';
import { createBackbone, emitConditionalDiT, forwardFlops, MIGE_XL_2 } from '@mige/dit';
import * as ort from 'onnxruntime-node';
import { gflops, machine, matmulPeak, median } from './bench-common.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const { values: args } = parseArgs({
  options: {
    child: { type: 'string' }, quick: { type: 'boolean' }, out: { type: 'string' }, rounds: { type: 'string' },
    steps: { type: 'string' }, warmup: { type: 'string' }, parts: { type: 'string' }, python: { type: 'string' },
  },
});
const log = (line) => process.stderr.write(`${line}\n`);
const TUNABLES = 'glibc.malloc.hugetlb=1:glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=1073741824';
/** The step's settings: the default model's fine-tuning recipe at batch 8. */
const CONFIG = { batchSize: 8, lr: 1e-4, warmupSteps: 0, maxGradNorm: 1, emaDecay: 0.9995, logEvery: 1e9, checkpointEvery: 1e9, keepLast: 1 };

// ---- child: one contender's timed steps -----------------------------------------------------------
async function jsChild(spec) {
  await initBackend({ backend: 'wasm', log: null });
  const model = await loadDefaultModel();
  const sizes = { imageSize: model.config.imageSize, vitSize: model.config.encoder.vision.imgSize };
  const dataset = datasetFromWorldSeed({ seed: 0, count: 2000, size: model.config.imageSize }, sizes);
  const outDir = mkdtempSync(join(os.tmpdir(), 'mige-bench-train-'));
  const stamps = [];
  const cpu = [];
  const infos = [];
  try {
    await train({
      model, dataset, outDir, engine: spec.engine, log: { write: () => true, isTTY: false }, logMode: 'jsonl',
      config: { ...CONFIG, steps: spec.warmup + spec.steps },
      ...(spec.engine === 'onnx' ? { threads: spec.threads, prefetch: spec.prefetch === true } : { workers: spec.threads }),
      onProgress: (e) => {
        stamps.push(performance.now());
        const c = process.cpuUsage();
        cpu.push((c.user + c.system) / 1000);
        infos.push(e.info ?? {});
      },
    });
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
  const stepMs = stamps.slice(1).map((t, i) => t - stamps[i]).slice(spec.warmup - 1);
  // CPU time of the whole process per step (ONNX Runtime's threads included): robust where the
  // machine is shared, since waiting for a core costs wall time but no CPU time.
  const stepCpuMs = cpu.slice(1).map((t, i) => t - cpu[i]).slice(spec.warmup - 1);
  // The engine's own split of each timed step (the ONNX engine reports data, graph, build and optimizer time).
  const timed = infos.slice(spec.warmup);
  const keys = [...new Set(timed.flatMap((i) => Object.keys(i).filter((k) => k.endsWith('_ms'))))];
  const timings = Object.fromEntries(keys.map((k) => [k, timed.map((i) => i[k] ?? 0)]));
  // Steps that built a graph for a new image count (the ONNX engine builds one per bucket, once
  // per run) are the run's start-up cost, reported apart from the steady step.
  const built = timed.map((i) => (i.build_ms ?? 0) > 1);
  process.stdout.write(`${JSON.stringify({ stepMs, stepCpuMs, built, timings })}\n`);
}

/** DiT-XL/2 at 512 px, batch 1: the training graph of the backbone alone (Σ c·output, gradients of every parameter). */
async function ditChild(spec) {
  await initBackend({ backend: 'cpu', log: null });
  const config = spec.quick ? { ...MIGE_XL_2, depth: 2, hiddenSize: 256, numHeads: 4, inputSize: 16 } : MIGE_XL_2;
  const dit = nn.withoutInit(() => createBackbone(config)).module;
  const n = config.inputSize, k = config.inChannels, l = config.modelMaxLength;
  const g = new OnnxBuilder({ name: 'bench-dit-train', params: { mode: 'input' } });
  const inputs = { x: [1, k, n, n], cond: [1, k, n, n], t: [1], y: [1, l, config.captionChannels], mask: [1, l] };
  const v = Object.fromEntries(Object.entries(inputs).map(([name, dims]) => [name, g.input(name, dims)]));
  const out = emitConditionalDiT(g, dit, { x: v.x, cond: v.cond, t: v.t, y: v.y, mask: v.mask });
  const outShape = inferShapes(g).get(out).shape;
  const loss = g.reduceSum(g.mul(out, g.input('cotangent', outShape)), [], false);
  const params = g.paramInfos();
  const grads = addGradients(g, { loss, wrt: params.map((p) => p.value) });
  g.output(loss, 'loss', []);
  for (const p of params) g.output(grads.get(p.value), `grad.${p.name}`, [...p.shape]);
  const session = await ort.InferenceSession.create(g.serialize(), { intraOpNumThreads: spec.threads, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
  const rng = new Rng('dit-bench');
  const feeds = {};
  const fetches = {};
  for (const [name, dims] of [...Object.entries(inputs), ['cotangent', outShape]]) {
    feeds[name] = new ort.Tensor('float32', name === 'mask' ? new Float32Array(l).fill(1) : name === 't' ? Float32Array.of(500) : Float32Array.from(tf.tidy(() => rng.randn(dims).dataSync())), dims);
  }
  for (const p of params) {
    const size = p.shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(size);
    for (let i = 0; i < size; i++) data[i] = (rng.uniform() - 0.5) * 0.04;
    feeds[p.name] = new ort.Tensor('float32', data, [...p.shape]);
    fetches[`grad.${p.name}`] = new ort.Tensor('float32', new Float32Array(size), [...p.shape]);
  }
  fetches.loss = new ort.Tensor('float32', new Float32Array(1), []);
  dit.dispose();
  const ms = [];
  for (let i = 0; i < spec.warmup + spec.steps; i++) {
    const t = performance.now();
    await session.run(feeds, fetches);
    if (i >= spec.warmup) ms.push(performance.now() - t);
  }
  await session.release();
  // Forward and backward: the forward's FLOPs, and twice them for the weight and activation gradients.
  const flop = 3 * forwardFlops(config, 1, l);
  process.stdout.write(`${JSON.stringify({ stepMs: ms, flop, nodes: g.nodeList().length })}\n`);
}

if (args.child) {
  const spec = JSON.parse(args.child);
  await (spec.kind === 'dit' ? ditChild(spec) : jsChild(spec));
  process.exit(0);
}

// ---- parent ----------------------------------------------------------------------------------------
const quick = args.quick === true;
const rounds = Number(args.rounds ?? (quick ? 1 : 3));
const steps = Number(args.steps ?? (quick ? 2 : 6));
const warmup = Number(args.warmup ?? (quick ? 1 : 3));
const parts = (args.parts ?? (quick ? 'step' : 'step,dit')).split(',');
const python = args.python ?? '/usr/bin/python3';
const out = resolve(args.out ?? join(here, '../../../bench-results/train.json'));
const torchScript = join(here, 'bench/torch_train_step.py');

/**
 * The images a step of the JS engines' world mix encodes, on average: the PyTorch script is given
 * the same counts (VAE images: targets, sources and subjects; ViT images: the instructions'
 * subjects), so that it does the same work.
 */
async function imageCounts() {
  await initBackend({ backend: 'cpu', log: null });
  const sizes = { imageSize: 64, vitSize: 32 };
  const dataset = datasetFromWorldSeed({ seed: 0, count: 2000, size: 64 }, sizes);
  const { TaskSampler } = await import('@mige/data');
  const sampler = new TaskSampler(dataset.sizes, { subject: 1, edit: 1, add: 0.5, replace: 0.5 }, 0);
  let vae = 0, vit = 0;
  const steps = 60;
  for (let i = 0; i < steps; i++) {
    const examples = await Promise.all(sampler.take(CONFIG.batchSize).map((d) => dataset.get(d.task, d.index)));
    for (const e of examples) {
      vae += 1 + (e.source ? 1 : 0) + e.entities.filter((_, j) => j !== e.sourceEntity).length;
      vit += e.entities.length;
    }
  }
  return { vae: Math.round(vae / steps), vit: Math.round(vit / steps) };
}
const counts = args.child ? null : await imageCounts();

function runChild(spec) {
  const env = { ...process.env, GLIBC_TUNABLES: TUNABLES };
  let cmd, argv;
  if (spec.kind === 'torch') {
    cmd = python;
    argv = [torchScript, '--threads', String(spec.threads), '--batch', '8', '--warmup', String(spec.warmup), '--steps', String(spec.steps), '--vae-images', String(counts.vae), '--images', String(counts.vit)];
    Object.assign(env, { OMP_NUM_THREADS: String(spec.threads), OMP_WAIT_POLICY: 'PASSIVE' });
  } else {
    cmd = process.execPath;
    argv = [fileURLToPath(import.meta.url), '--child', JSON.stringify(spec)];
  }
  const r = spawnSync(cmd, argv, { env, encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
  if (r.status !== 0) throw new Error(`${spec.label} failed (exit ${r.status}): ${(r.stderr ?? '').split('\n').slice(-8).join('\n')}`);
  const line = r.stdout.trim().split('\n').at(-1);
  const parsed = JSON.parse(line);
  return spec.kind === 'torch' ? { stepMs: parsed.stepSeconds.map((s) => s * 1000), stepCpuMs: parsed.stepCpuSeconds.map((s) => s * 1000), torch: parsed } : parsed;
}

await initBackend({ backend: 'cpu', log: null }); // the peak's random matrices
const peaks = [];
const measurePeaks = async (when) => {
  for (const threads of [1, 2]) {
    const p = await matmulPeak(threads, quick ? { n: 256, chain: 2, iterations: 2 } : {});
    peaks.push({ when, threads, gflops: p.gflops, medianMs: p.medianMs });
    log(`[bench] matmul peak (${when}) ${threads} thread(s): ${p.gflops.toFixed(1)} GFLOP/s`);
  }
};
await measurePeaks('start');

const report = { date: new Date().toISOString(), quick, machine: machine(), config: CONFIG, rounds, stepsPerRun: steps, warmupPerRun: warmup, imagesPerStep: counts };
if (parts.includes('step')) {
  const contenders = [
    { label: 'onnx, 1 thread', kind: 'js', engine: 'onnx', threads: 1 },
    { label: 'onnx, 2 threads', kind: 'js', engine: 'onnx', threads: 2 },
    { label: 'onnx, 1 thread + prefetch', kind: 'js', engine: 'onnx', threads: 1, prefetch: true },
    { label: 'tfjs wasm, 1 worker', kind: 'js', engine: 'tfjs', threads: 1 },
    { label: 'tfjs wasm, 2 workers', kind: 'js', engine: 'tfjs', threads: 2 },
  ];
  if (existsSync(torchScript) && spawnSync(python, ['-c', 'import torch'], { encoding: 'utf8' }).status === 0) {
    contenders.push({ label: 'pytorch, 1 thread', kind: 'torch', threads: 1 }, { label: 'pytorch, 2 threads', kind: 'torch', threads: 2 });
  } else {
    log(`[bench] no PyTorch (${python} with torch) or no ${torchScript}: PyTorch rows left out`);
  }
  const samples = new Map(contenders.map((c) => [c.label, []]));
  const cpuSamples = new Map(contenders.map((c) => [c.label, []]));
  const buildSteps = new Map(contenders.map((c) => [c.label, []]));
  const timingSamples = new Map(contenders.map((c) => [c.label, {}]));
  const torchInfo = {};
  for (let r = 0; r < rounds; r++) {
    const order = contenders.map((_, i) => contenders[(i + r) % contenders.length]);
    for (const c of order) {
      const res = runChild({ ...c, steps, warmup });
      res.stepMs.forEach((ms, i) => {
        if (res.built?.[i]) buildSteps.get(c.label).push(ms);
        else {
          samples.get(c.label).push(ms);
          cpuSamples.get(c.label).push(res.stepCpuMs[i]);
        }
      });
      for (const [k, v] of Object.entries(res.timings ?? {})) (timingSamples.get(c.label)[k] ??= []).push(...v);
      if (res.torch) (torchInfo[c.label] ??= []).push({ blas: res.torch.blas, torch: res.torch.torch, params: res.torch.params, partsMedianS: res.torch.parts });
      log(`[bench] round ${r + 1}: ${c.label}: median ${median(res.stepMs).toFixed(0)} ms/step, ${median(res.stepCpuMs).toFixed(0)} ms CPU/step`);
    }
  }
  const rows = contenders.map((c) => {
    const timings = Object.fromEntries(Object.entries(timingSamples.get(c.label)).map(([k, v]) => [k, median(v)]));
    const built = buildSteps.get(c.label);
    return {
      contender: c.label, medianMsPerStep: median(samples.get(c.label)), minMsPerStep: Math.min(...samples.get(c.label)),
      medianCpuMsPerStep: median(cpuSamples.get(c.label)),
      ...(Object.keys(timings).length ? { medianTimingsMs: timings } : {}),
      stepsMs: samples.get(c.label),
      ...(built.length ? { stepsThatBuiltAGraphMs: built } : {}),
    };
  });
  const by = (label) => rows.find((x) => x.contender === label)?.medianMsPerStep;
  const cpuBy = (label) => rows.find((x) => x.contender === label)?.medianCpuMsPerStep;
  const onnx1 = by('onnx, 1 thread');
  report.step = {
    rows,
    torch: torchInfo,
    ratios: {
      onnx1VsTorch1: by('pytorch, 1 thread') ? onnx1 / by('pytorch, 1 thread') : null,
      onnx1VsTorch1Cpu: cpuBy('pytorch, 1 thread') ? cpuBy('onnx, 1 thread') / cpuBy('pytorch, 1 thread') : null,
      tfjs1OverOnnx1: by('tfjs wasm, 1 worker') / onnx1,
      bestTfjsOverBestOnnx: Math.min(by('tfjs wasm, 1 worker'), by('tfjs wasm, 2 workers')) / Math.min(onnx1, by('onnx, 2 threads')),
    },
    targets: { onnx1VsTorch1: '≤ 1.0', tfjsOverOnnx: '≥ 6' },
  };
}
if (parts.includes('dit')) {
  const rows = [];
  for (const threads of [1, 2]) {
    const res = runChild({ kind: 'dit', label: `dit-xl ${threads}`, threads, warmup: 1, steps: quick ? 1 : 2, quick });
    const ms = median(res.stepMs);
    rows.push({ threads, medianMs: ms, runsMs: res.stepMs, gflop: res.flop / 1e9, gflopsPerS: gflops(res.flop, ms), nodes: res.nodes });
    log(`[bench] DiT-XL/2 512 px fwd+bwd, ${threads} thread(s): ${(ms / 1000).toFixed(1)} s, ${gflops(res.flop, ms).toFixed(1)} GFLOP/s`);
  }
  report.ditXl = { config: quick ? 'MIGE_XL_2 shrunk (--quick)' : 'MIGE_XL_2', imageSize: 512, batch: 1, rows };
}
await measurePeaks('end');
report.matmulPeak = peaks;
if (report.ditXl) {
  for (const row of report.ditXl.rows) {
    const peak = median(peaks.filter((p) => p.threads === row.threads).map((p) => p.gflops));
    row.matmulPeakGflops = peak;
    row.fractionOfPeak = row.gflopsPerS / peak;
  }
  report.ditXl.target = 'fractionOfPeak ≥ 0.70';
}
report.machine.loadAverageEnd = os.loadavg();
mkdirSync(dirname(out), { recursive: true });
writeTextFileAtomic(out, `${JSON.stringify(report, null, 2)}\n`);
process.stdout.write(`${out}\n`);
