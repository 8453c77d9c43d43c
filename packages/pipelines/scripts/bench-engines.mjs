/**
 * Inference engines on this machine, in one run (issue 9): TF.js wasm, TF.js cpu, and ONNX
 * Runtime with 1 and 2 intra-op threads, on
 *   1. the default model's edit: 20 steps, 3-branch guidance, 64 px (the shipped mige-world model
 *      when installed, else the mige-world config with random weights: the output says which);
 *   2. one DiT-XL/2 forward at 512 px (MIGE_XL_2, random weights, batch 1, L = modelMaxLength;
 *      ORT gets only the dit graph).
 * Each timing gets GFLOP/s from @mige/dit's forwardFlops (the edit counts the DiT calls only: a
 * lower bound, the encoders and the VAE are left out) and its fraction of this machine's
 * single-precision matmul peak, measured in the same run by ORT on a MatMul chain built with
 * core's OnnxBuilder (1 and 2 threads). Writes bench-results/engines.json atomically.
 *
 *   pnpm --filter @mige/pipelines bench            (from packages/pipelines: pnpm bench)
 *   node scripts/bench-engines.mjs --quick         smoke run: tiny sizes, 1 iteration
 *   node scripts/bench-engines.mjs --out <file.json> --iterations <n>
 *   node scripts/bench-engines.mjs --parts edit     re-measure one part; the file keeps the other's
 *                                                   last result (each part records its date and peak)
 */
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { getBackendInfo, initBackend, nn, OnnxBuilder, Rng, tensorParamSource, tf, writeFileAtomic, writeTextFileAtomic } from '@mige/core';
import { createBackbone, emitDitBackbone, forwardFlops, MIGE_TINY as DIT_TINY, MIGE_XL_2 } from '@mige/dit';
import * as ort from 'onnxruntime-node';
import { gflops, matmulPeak as sharedMatmulPeak } from './bench-common.mjs';
import { edit, exportModel, hasDefaultModel, loadDefaultModel, MIGE_TINY, MigeModel, OnnxSessions, onnxEngine, parseMigeConfig, tfjsEngine } from '../dist/index.js';

const { values: args } = parseArgs({ options: { quick: { type: 'boolean' }, out: { type: 'string' }, iterations: { type: 'string' }, parts: { type: 'string' } } });
const parts = (args.parts ?? 'edit,dit').split(',');
if (parts.some((p) => p !== 'edit' && p !== 'dit')) throw new Error(`--parts takes edit and/or dit, got ${JSON.stringify(args.parts)}`);
const quick = args.quick === true;
const iterations = Number(args.iterations ?? (quick ? 1 : 3));
const out = resolve(args.out ?? new URL('../../../bench-results/engines.json', import.meta.url).pathname);
const work = join(os.tmpdir(), `mige-bench-engines-${process.pid}`);
mkdirSync(work, { recursive: true });
const log = (line) => process.stderr.write(`${line}\n`);

/**
 * Median wall time in ms of `iterations` runs of fn, after one warm-up run. A first run over
 * SLOW_MS is the only one taken (TF.js cpu on DiT-XL takes minutes a run): `warm: false` says so.
 */
const SLOW_MS = 60_000;
/** DiT-XL blocks TF.js cpu runs (of 28); its full-forward time is scaled from them. */
const CPU_BLOCKS = 2;
async function timeIt(fn) {
  const t0 = performance.now();
  await fn();
  const first = performance.now() - t0;
  if (first > SLOW_MS) return { medianMs: first, runsMs: [first], warm: false };
  const ms = [];
  for (let i = 0; i < iterations; i++) {
    const t1 = performance.now();
    await fn();
    ms.push(performance.now() - t1);
  }
  ms.sort((a, b) => a - b);
  return { medianMs: ms[Math.floor(ms.length / 2)], runsMs: ms, warm: true };
}

// ---- the machine's matmul peak: ORT MatMul chain, 1 and 2 threads (bench-common.mjs) ------------
const matmulPeak = (threads) => sharedMatmulPeak(threads, quick ? { n: 128, chain: 2, iterations } : { iterations });

// ---- 1. the default model's edit ------------------------------------------------------------------
function picture(size) {
  const data = new Uint8Array(size * size * 3);
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) data.set(x > size / 4 && x < (3 * size) / 4 && y > size / 4 && y < (3 * size) / 4 ? [200, 40, 40] : [x * 4, y * 4, 128], (y * size + x) * 3);
  return { width: size, height: size, data };
}

async function editModel() {
  if (quick) return { model: MigeModel.create(MIGE_TINY, { seed: 0 }), source: 'mige-tiny preset, random weights (--quick)' };
  if (hasDefaultModel()) return { model: await loadDefaultModel(), source: 'the shipped default model (loadDefaultModel)' };
  const path = new URL('./world-model/mige-world.config.json', import.meta.url).pathname;
  const config = parseMigeConfig(JSON.parse(readFileSync(path, 'utf8')), path);
  log('[bench] the default model is not installed: mige-world config with RANDOM weights');
  return { model: MigeModel.create(config, { seed: 0 }), source: `mige-world config (${path}) with random weights: the default model is not installed` };
}

/** A FlowEngine wrapper that times the DiT calls (awaited, so sync and async engines alike). */
function timedSteps(engine) {
  const stats = { ms: 0, calls: 0, rows: 0 };
  return {
    stats,
    engine: {
      ...engine,
      name: engine.name,
      vaeEncode: (i) => engine.vaeEncode(i),
      encode: (i) => engine.encode(i),
      vaeDecode: (l) => engine.vaeDecode(l),
      denoiseStep(input) {
        const t0 = performance.now();
        stats.calls++;
        stats.rows += input.x.shape[0];
        const r = engine.denoiseStep(input);
        if (!(r instanceof Promise)) {
          stats.ms += performance.now() - t0;
          return r;
        }
        return r.then((eps) => ((stats.ms += performance.now() - t0), eps));
      },
    },
  };
}

async function benchEdit(peak) {
  await initBackend({ backend: 'wasm', log: null });
  const { model, source } = await editModel();
  const steps = quick ? 2 : 20;
  const request = { instruction: 'make the square blue', source: picture(model.config.imageSize) };
  const ditConfig = model.backbone.config;
  const flopPerStep = forwardFlops(ditConfig, 3, model.encoder.maxLength);
  const onnxDir = join(work, 'edit-onnx');
  exportModel(model, onnxDir, { dtype: 'fp32' });
  const results = [];
  const run = async (label, backend, makeEngine) => {
    await initBackend({ backend, log: null });
    const { engine, release } = await makeEngine();
    const timed = timedSteps(engine);
    try {
      const t = await timeIt(async () => {
        timed.stats.ms = 0;
        timed.stats.calls = 0;
        const r = await edit(model, request, { steps, seed: 0, engine: timed.engine });
        r.tensor.dispose();
      });
      const ditFlop = flopPerStep * steps;
      const ditGflops = gflops(ditFlop, timed.stats.ms);
      results.push({
        engine: label,
        tfjsBackend: getBackendInfo()?.name ?? tf.getBackend(),
        ...t,
        ditMs: timed.stats.ms,
        ditCalls: timed.stats.calls,
        ditGflop: ditFlop / 1e9,
        ditGflopsPerS: ditGflops,
        gflopsPerSOverall: gflops(ditFlop, t.medianMs),
        fractionOfPeak: ditGflops / peak.best,
        fractionOfThreadPeak: ditGflops / peak.byThreads(label.endsWith('2 threads') ? 2 : 1),
      });
      log(`[bench] edit ${label}: ${t.medianMs.toFixed(1)} ms, DiT ${ditGflops.toFixed(1)} GFLOP/s`);
    } finally {
      await release();
    }
  };
  await run('tfjs wasm', 'wasm', async () => ({ engine: tfjsEngine(model), release: async () => {} }));
  await run('tfjs cpu', 'cpu', async () => ({ engine: tfjsEngine(model), release: async () => {} }));
  for (const threads of [1, 2]) {
    await run(`ort ${threads} thread${threads > 1 ? 's' : ''}`, 'wasm', async () => {
      const sessions = await OnnxSessions.open(onnxDir, { sessionOptions: { intraOpNumThreads: threads, interOpNumThreads: 1 } });
      return { engine: onnxEngine(model, sessions), release: () => sessions.release() };
    });
  }
  model.dispose();
  return { model: model.config.name, source, imageSize: model.config.imageSize, steps, guidanceBranches: 3, ditFlopPerStep: flopPerStep, results };
}

// ---- 2. one DiT-XL/2 forward at 512 px --------------------------------------------------------------
/** Random weights without PyTorch's slow init: zero-built, then uniform ±0.02 per parameter. */
function randomDit(config) {
  const dit = nn.withoutInit(() => createBackbone(config));
  let i = 0;
  for (const [, p] of dit.module.namedParameters()) p.assign(tf.tidy(() => tf.randomUniform(p.shape, -0.02, 0.02, 'float32', 1000 + i++)));
  return dit;
}

async function benchDit(peak) {
  const config = quick ? DIT_TINY : MIGE_XL_2;
  await initBackend({ backend: 'wasm', log: null });
  const dit = randomDit(config);
  const n = config.inputSize, k = config.inChannels, l = config.modelMaxLength;
  const rng = new Rng('dit-inputs');
  const inputs = () => ({
    x: rng.randn([1, k, n, n]),
    cond: rng.randn([1, k, n, n]),
    t: tf.tensor1d([500]),
    y: rng.randn([1, l, config.captionChannels]),
    mask: tf.ones([1, l]),
  });
  const flop = forwardFlops(config, 1, l);
  const results = [];
  const record = (label, t, threads) => {
    const g = gflops(flop, t.medianMs);
    results.push({ engine: label, ...t, gflopsPerS: g, fractionOfPeak: g / peak.best, fractionOfThreadPeak: g / peak.byThreads(threads) });
    log(`[bench] dit ${label}: ${t.medianMs.toFixed(1)} ms, ${g.toFixed(1)} GFLOP/s`);
  };
  for (const backend of ['wasm', 'cpu']) {
    await initBackend({ backend, log: null });
    const input = inputs();
    // TF.js cpu runs about 0.2-1 GFLOP/s: a full XL forward would take over an hour. It runs the
    // first CPU_BLOCKS blocks (with the embedders and the final layer) and reports that speed and
    // the full forward's time at that speed.
    const blocks = backend === 'cpu' && !quick ? CPU_BLOCKS : config.depth;
    const net = blocks === config.depth ? dit : randomDit({ ...config, depth: blocks });
    const t = await timeIt(async () => {
      const eps = tf.tidy(() => net.forward(input).eps);
      await eps.data(); // waits for the backend to finish, as ORT's run does
      eps.dispose();
    });
    if (blocks === config.depth) {
      record(`tfjs ${backend}`, t, 1);
    } else {
      const partFlop = forwardFlops({ ...config, depth: blocks }, 1, l);
      const g = gflops(partFlop, t.medianMs);
      results.push({ engine: `tfjs ${backend}`, blocksRun: blocks, ...t, partGflop: partFlop / 1e9, gflopsPerS: g, medianMs: flop / (g * 1e6), measuredMs: t.medianMs, fractionOfPeak: g / peak.best, fractionOfThreadPeak: g / peak.byThreads(1) });
      log(`[bench] dit tfjs ${backend}: ${blocks}/${config.depth} blocks in ${t.medianMs.toFixed(1)} ms, ${g.toFixed(2)} GFLOP/s → full forward ≈ ${(flop / (g * 1e6) / 1000).toFixed(0)} s`);
    }
    if (net !== dit) net.module.dispose();
    tf.dispose(Object.values(input));
  }
  // Export the dit graph alone, weights in an external file (XL/2 is over protobuf's 2 GiB).
  const g = new OnnxBuilder({ name: 'bench-dit', params: { mode: 'initializer', source: tensorParamSource(dit.module.namedParameters()) } });
  const x = g.input('x', [1, k, n, n]);
  const cond = g.input('cond', [1, k, n, n]);
  const t = g.input('t', [1]);
  const y = g.input('y', [1, l, config.captionChannels]);
  const mask = g.input('mask', [1, l]);
  g.output(emitDitBackbone(g, dit, { x, cond, t, y, mask }).eps, 'eps', [1, k, n, n]);
  const split = g.serializeExternal('dit.onnx.data');
  writeFileAtomic(join(work, 'dit.onnx.data'), (write) => split.data.forEach(write));
  writeFileAtomic(join(work, 'dit.onnx'), (write) => write(split.model));
  const feeds = tf.tidy(() => Object.fromEntries(Object.entries(inputs()).map(([key, v]) => [key, v.dataSync()])));
  const shapes = { x: [1, k, n, n], cond: [1, k, n, n], t: [1], y: [1, l, config.captionChannels], mask: [1, l] };
  dit.module.dispose();
  for (const threads of [1, 2]) {
    const session = await ort.InferenceSession.create(join(work, 'dit.onnx'), { intraOpNumThreads: threads, interOpNumThreads: 1 });
    const ortFeeds = Object.fromEntries(Object.entries(feeds).map(([key, data]) => [key, new ort.Tensor('float32', Float32Array.from(data), shapes[key])]));
    try {
      record(`ort ${threads} thread${threads > 1 ? 's' : ''}`, await timeIt(() => session.run(ortFeeds)), threads);
    } finally {
      await session.release();
    }
  }
  return { config: quick ? 'MIGE_TINY (dit, --quick)' : 'MIGE_XL_2', imageSize: n * 8, batch: 1, captionLength: l, gflop: flop / 1e9, results };
}

try {
  await initBackend({ backend: 'wasm', log: null });
  const peaks = [];
  for (const threads of [1, 2]) {
    const p = await matmulPeak(threads);
    peaks.push(p);
    log(`[bench] matmul peak ${threads} thread(s): ${p.gflops.toFixed(1)} GFLOP/s`);
  }
  const peak = { best: Math.max(...peaks.map((p) => p.gflops)), byThreads: (th) => (peaks.find((p) => p.threads === th) ?? peaks[0]).gflops };
  let previous = {};
  try { previous = JSON.parse(readFileSync(out, 'utf8')); } catch { /* no earlier results */ }
  const stamp = (r) => ({ measuredAt: new Date().toISOString(), matmulPeakGflops: peaks.map((p) => ({ threads: p.threads, gflops: p.gflops })), ...r });
  const editResult = parts.includes('edit') ? stamp(await benchEdit(peak)) : previous.edit;
  const ditResult = parts.includes('dit') ? stamp(await benchDit(peak)) : previous.ditForward;
  const cpus = os.cpus();
  const report = {
    date: new Date().toISOString(),
    quick,
    iterations,
    machine: {
      cpus: cpus.map((c) => ({ model: c.model, speedMHz: c.speed })),
      cpuCount: cpus.length,
      availableParallelism: os.availableParallelism?.() ?? cpus.length,
      totalMemGiB: os.totalmem() / 2 ** 30,
      platform: `${os.platform()} ${os.release()} ${os.arch()}`,
      node: process.version,
      onnxruntime: ort.env.versions?.common ?? 'unknown',
      tfjs: tf.version_core,
    },
    matmulPeak: peaks,
    edit: editResult,
    ditForward: ditResult,
  };
  mkdirSync(dirname(out), { recursive: true });
  writeTextFileAtomic(out, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`${out}\n`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
