/**
 * Where DiT-XL/2's training graph spends its time (issue 44), on a reduced depth (the full 28
 * blocks need ~20 GB): the backbone's forward + backward exactly as bench-train.mjs builds it
 * (Σ c·output, the gradients of every parameter), at XL's width, heads, 512 px and caption size.
 *
 *   node scripts/profile-dit-train.mjs save --depth 3 --out /tmp/dit.onnx
 *        builds the graph with the code as built now and saves it (model + a .json of its inputs)
 *   node scripts/profile-dit-train.mjs profile /tmp/dit.onnx [--threads 1] [--runs 2]
 *        ONNX Runtime's profiler: time per op type (forward / backward), per op + output shape,
 *        the matrix products' GFLOP/s
 *   node scripts/profile-dit-train.mjs ab /tmp/a.onnx /tmp/b.onnx [--rounds 5] [--threads 1]
 *        interleaved timings of the graphs with the 1024³ MatMul peak measured between them;
 *        also checks that both give the same loss and gradients
 */
import { readFileSync, writeFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { initBackend, Rng } from '@mige/core';
import { forwardFlops, MIGE_XL_2 } from '@mige/dit';
import * as ort from 'onnxruntime-node';
import { ditTrainingGraph, gflops, median, openMatmulProbe } from './bench-common.mjs';

const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: { depth: { type: 'string' }, out: { type: 'string' }, threads: { type: 'string' }, runs: { type: 'string' }, rounds: { type: 'string' }, top: { type: 'string' } },
});
const log = (line) => process.stderr.write(`${line}\n`);
const [mode, ...files] = positionals;
const threads = Number(args.threads ?? 1);

async function save() {
  await initBackend({ backend: 'cpu', log: null });
  const config = { ...MIGE_XL_2, depth: Number(args.depth ?? 3) };
  const { g, forwardNodes } = ditTrainingGraph(config, 'profile-dit-train');
  const file = args.out ?? '/tmp/dit-train.onnx';
  writeFileSync(file, g.serialize());
  const nodeNames = g.nodeList().map((node) => node.name);
  const meta = {
    depth: config.depth, flop: 3 * forwardFlops(config, 1, config.modelMaxLength), forwardNodes, nodes: nodeNames.length,
    backwardNodeNames: nodeNames.slice(forwardNodes),
    inputs: g.inputInfos().map((i) => ({ name: i.name, dims: i.dims })),
    outputs: g.outputInfos().map((o) => ({ name: o.name, dims: o.dims })),
  };
  writeFileSync(`${file}.json`, JSON.stringify(meta));
  log(`${file}: depth ${config.depth}, ${meta.nodes} nodes (${forwardNodes} forward), ${(meta.flop / 1e9).toFixed(1)} GFLOP`);
}

const metaOf = (file) => JSON.parse(readFileSync(`${file}.json`, 'utf8'));

function feedsFor(meta) {
  const rng = new Rng('dit-profile');
  const feeds = {}, fetches = {};
  for (const { name, dims } of meta.inputs) {
    const size = dims.reduce((a, b) => a * b, 1);
    const data = new Float32Array(size);
    if (name === 'mask') data.fill(1);
    else if (name === 't') data.fill(500);
    else if (['x', 'cond', 'y', 'cotangent'].includes(name)) for (let i = 0; i < size; i++) data[i] = rng.uniform() * 2 - 1;
    else for (let i = 0; i < size; i++) data[i] = (rng.uniform() - 0.5) * 0.04;
    feeds[name] = new ort.Tensor('float32', data, dims);
  }
  for (const { name, dims } of meta.outputs) fetches[name] = new ort.Tensor('float32', new Float32Array(dims.reduce((a, b) => a * b, 1)), dims);
  return { feeds, fetches };
}

const sessionOptions = (extra = {}) => ({ intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all', ...extra });

/** FLOPs of a matrix-product kernel from the profiler's shapes. */
function productFlops(op, shapes, out) {
  const size = (s) => s.reduce((a, b) => a * b, 1);
  if (!shapes?.length || !out) return 0;
  if (op === 'MatMul' || op === 'FusedMatMul' || op === 'Gemm') {
    // out [..., m, n]; A is [..., m, k] or, transposed, [..., k, m].
    const a = shapes[0], m = out.length > 1 ? out.at(-2) : 1;
    const k = a.length < 2 ? a[0] : a.at(-1) === m && a.at(-2) !== m ? a.at(-2) : a.at(-1);
    return 2 * size(out) * k;
  }
  if (op === 'Conv' || op === 'ConvTranspose') {
    // Per output (Conv) or input (ConvTranspose) element: one multiply-add per weight of its channel.
    const w = shapes[1];
    return (2 * size(op === 'Conv' ? out : shapes[0]) * size(w)) / w[0];
  }
  return 0;
}

async function profile() {
  const file = files[0];
  const meta = metaOf(file);
  const backward = new Set(meta.backwardNodeNames);
  // ORT renames the nodes it fuses or inserts; the original name is usually inside the new one.
  const phaseOf = (name) => {
    if (backward.has(name)) return 'bwd';
    for (const m of name.matchAll(/[A-Za-z]+_node(?:_\d+)?/g)) if (backward.has(m[0])) return 'bwd';
    return /_node/.test(name) ? 'fwd' : 'ort';
  };
  const prefix = join(os.tmpdir(), `dit-prof-${process.pid}`);
  const session = await ort.InferenceSession.create(readFileSync(file), sessionOptions({ enableProfiling: true, profileFilePrefix: prefix }));
  const { feeds, fetches } = feedsFor(meta);
  const runs = Number(args.runs ?? 2);
  const wall = [];
  for (let i = 0; i < runs + 1; i++) {
    const t = performance.now();
    await session.run(feeds, fetches);
    wall.push(performance.now() - t);
  }
  session.endProfiling();
  await session.release();
  const traceFile = readdirSync(os.tmpdir()).filter((f) => f.startsWith(`dit-prof-${process.pid}`)).map((f) => join(os.tmpdir(), f))[0];
  const events = JSON.parse(readFileSync(traceFile, 'utf8'));
  rmSync(traceFile);
  // Node events of the timed runs (the first run is a warm-up).
  const runEvents = events.filter((e) => e.cat === 'Session' && e.name === 'model_run');
  const timedFrom = runEvents[1]?.ts ?? 0;
  const nodes = events.filter((e) => e.cat === 'Node' && e.name.endsWith('_kernel_time') && e.ts >= timedFrom);
  const byOp = new Map(), byShape = new Map();
  let total = 0, productUs = 0, productFlop = 0;
  const add = (map, key, dur, flop) => {
    const r = map.get(key) ?? { us: 0, count: 0, flop: 0 };
    r.us += dur; r.count++; r.flop += flop;
    map.set(key, r);
  };
  // Each node's fastest run: on a shared machine, the least disturbed estimate of its cost.
  const perNode = new Map();
  for (const e of nodes) {
    const r = perNode.get(e.name);
    if (r) r.durs.push(e.dur);
    else perNode.set(e.name, { e, durs: [e.dur] });
  }
  for (const [name, { e, durs }] of perNode) {
    const nodeName = name.replace(/_kernel_time$/, '');
    const op = e.args.op_name;
    const phase = phaseOf(nodeName);
    const inShapes = (e.args.input_type_shape ?? []).map((o) => Object.values(o)[0]);
    const outShape = (e.args.output_type_shape ?? []).map((o) => Object.values(o)[0])[0];
    const flop = productFlops(op, inShapes, outShape);
    const dur = Math.min(...durs);
    total += dur;
    if (flop > 0) { productUs += dur; productFlop += flop; }
    add(byOp, `${op} ${phase}`, dur, flop);
    add(byShape, `${op} ${phase} ${JSON.stringify(inShapes)}→${JSON.stringify(outShape)}`, dur, flop);
  }
  const perRun = (us) => us / 1000;
  const line = (k, r) => `${(perRun(r.us)).toFixed(1).padStart(9)} ms ${((100 * r.us) / total).toFixed(1).padStart(5)}%  ${String(r.count).padStart(5)}×  ${r.flop ? `${gflops(r.flop, r.us / 1000).toFixed(0).padStart(4)} GFLOP/s` : '            '}  ${k}`;
  const top = Number(args.top ?? 45);
  log(`${file}: wall ${wall.map((w) => (w / 1000).toFixed(2)).join(', ')} s (first is warm-up); kernels ${perRun(total).toFixed(0)} ms (each node's fastest of the timed runs, summed)`);
  log(`matrix products: ${((100 * productUs) / total).toFixed(1)}% of kernel time at ${gflops(productFlop, productUs / 1000).toFixed(1)} GFLOP/s; the rest ${perRun(total - productUs).toFixed(0)} ms`);
  log(`graph FLOPs (3 × forward): ${(meta.flop / 1e9).toFixed(1)} GFLOP → ${gflops(meta.flop, median(wall.slice(1))).toFixed(1)} GFLOP/s on wall time`);
  await initBackend({ backend: 'cpu', log: null });
  const probe = await openMatmulProbe(threads);
  const peak = Math.max(...(await probe.measure(5)).runsMs.map((ms) => gflops(2 * 1024 ** 3 * 8, ms)));
  await probe.release();
  log(`1024³ MatMul peak now (best of 5): ${peak.toFixed(0)} GFLOP/s; the graph's FLOPs at the summed kernel times: ${gflops(meta.flop, total / 1000).toFixed(1)} GFLOP/s = ${((100 * gflops(meta.flop, total / 1000)) / peak).toFixed(0)}%`);
  log('\n-- per op type --');
  for (const [k, r] of [...byOp].sort((a, b) => b[1].us - a[1].us)) log(line(k, r));
  log('\n-- per op, phase and shapes --');
  for (const [k, r] of [...byShape].sort((a, b) => b[1].us - a[1].us).slice(0, top)) log(line(k, r));
}

async function ab() {
  const metas = files.map(metaOf);
  const sessions = [];
  for (const f of files) sessions.push(await ort.InferenceSession.create(readFileSync(f), sessionOptions()));
  await initBackend({ backend: 'cpu', log: null });
  const probe = await openMatmulProbe(threads);
  const io = metas.map(feedsFor);
  const rounds = Number(args.rounds ?? 5);
  const ms = files.map(() => []);
  // CPU time per run as well: waiting for a core on a shared machine costs wall time, not CPU time.
  const cpuMs = files.map(() => []);
  const cpuNow = () => { const c = process.cpuUsage(); return (c.user + c.system) / 1000; };
  const peaks = [];
  // Warm-up, and the same numbers from both graphs.
  for (let i = 0; i < files.length; i++) await sessions[i].run(io[i].feeds, io[i].fetches);
  for (let i = 1; i < files.length; i++) {
    let worst = 0, where = '';
    for (const name of Object.keys(io[0].fetches)) {
      const a = io[0].fetches[name].data, b = io[i].fetches[name].data;
      let scale = 0, diff = 0;
      for (let j = 0; j < a.length; j++) { scale = Math.max(scale, Math.abs(a[j])); diff = Math.max(diff, Math.abs(a[j] - b[j])); }
      const rel = diff / (scale || 1);
      if (!(rel <= worst)) { worst = rel; where = name; }
    }
    log(`${files[i]} vs ${files[0]}: largest difference relative to the output's max |value|: ${worst.toExponential(2)} (${where})`);
  }
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? files.map((_, i) => i) : files.map((_, i) => files.length - 1 - i);
    for (const i of order) {
      const t = performance.now(), c = cpuNow();
      await sessions[i].run(io[i].feeds, io[i].fetches);
      ms[i].push(performance.now() - t);
      cpuMs[i].push(cpuNow() - c);
    }
    peaks.push((await probe.measure(2)).gflops);
    log(`round ${r}: ${ms.map((m, i) => `${(m.at(-1) / 1000).toFixed(2)} s (cpu ${(cpuMs[i].at(-1) / 1000).toFixed(2)})`).join(', ')}; peak ${peaks.at(-1).toFixed(0)} GFLOP/s`);
  }
  const peak = median(peaks);
  const result = { threads, rounds, peakGflops: peaks, graphs: files.map((f, i) => ({ file: f, depth: metas[i].depth, nodes: metas[i].nodes, runsMs: ms[i], medianMs: median(ms[i]), cpuMs: cpuMs[i], medianCpuMs: median(cpuMs[i]), minMs: Math.min(...ms[i]), gflops: gflops(metas[i].flop, median(ms[i])), ofPeak: gflops(metas[i].flop, median(ms[i])) / peak })) };
  for (const g of result.graphs) log(`${g.file}: median ${(g.medianMs / 1000).toFixed(2)} s (best ${(g.minMs / 1000).toFixed(2)}, cpu median ${(g.medianCpuMs / 1000).toFixed(2)}), ${g.gflops.toFixed(1)} GFLOP/s = ${(100 * g.ofPeak).toFixed(0)}% of the median peak ${peak.toFixed(0)}`);
  process.stdout.write(`${JSON.stringify(result)}\n`);
  await probe.release();
  for (const s of sessions) await s.release();
}

if (mode === 'save') await save();
else if (mode === 'profile') await profile();
else if (mode === 'ab') await ab();
else throw new Error('usage: profile-dit-train.mjs save|profile|ab ...');
