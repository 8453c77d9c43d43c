// Loading MIGE_XL_2 weights must stream: peak memory well under 1.3x the weight bytes.
//   node bench-load.mjs write <file>   streams an XL random-weight safetensors file (no tfjs memory)
//   node bench-load.mjs load <file>    fresh process: withoutInit + loadStateDict(SafetensorsReader)
import { closeSync, openSync, writeSync } from 'node:fs';
import { nn, SafetensorsReader } from '@mige/core';
import { createBackbone, MIGE_XL_2 } from '@mige/dit';
import { BACKEND, emitResult, memory, peakRssBytes, startBackend, wasmHeapBytes } from './bench-common.mjs';

const [mode, file] = process.argv.slice(2);
if (!file || (mode !== 'write' && mode !== 'load')) throw new Error('usage: bench-load.mjs write|load <file>');
await startBackend();

/** XL's state-dict shapes: a one-block XL has every distinct shape; its block 0 stands for all 28. */
function xlShapes() {
  const one = nn.withoutInit(() => createBackbone({ ...MIGE_XL_2, depth: 1 })).module;
  const shapes = [];
  for (const [k, t] of one.stateDict()) {
    if (!k.startsWith('blocks.0.')) shapes.push([k, [...t.shape]]);
    else for (let i = 0; i < MIGE_XL_2.depth; i++) shapes.push([k.replace('blocks.0.', `blocks.${i}.`), [...t.shape]]);
  }
  one.dispose();
  return shapes;
}

function write() {
  const shapes = xlShapes();
  const header = {};
  let offset = 0;
  for (const [k, shape] of shapes) {
    const bytes = 4 * shape.reduce((a, b) => a * b, 1);
    header[k] = { dtype: 'F32', shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const fd = openSync(file, 'w');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  writeSync(fd, len);
  writeSync(fd, Buffer.from(json));
  // xorshift32 uniforms in ±0.03, 4 MiB at a time: fast and never more than one chunk in memory.
  const chunk = new Float32Array(1 << 20);
  let s = 2463534242;
  for (const [, shape] of shapes) {
    let left = shape.reduce((a, b) => a * b, 1);
    while (left > 0) {
      const n = Math.min(left, chunk.length);
      for (let i = 0; i < n; i++) {
        s ^= s << 13; s ^= s >>> 17; s ^= s << 5;
        chunk[i] = ((s >>> 0) / 4294967296 - 0.5) * 0.06;
      }
      writeSync(fd, new Uint8Array(chunk.buffer, 0, 4 * n));
      left -= n;
    }
  }
  closeSync(fd);
  emitResult({ file, tensors: shapes.length, weightBytes: offset, peakRssBytes: peakRssBytes() });
}

function load() {
  const baseline = memory();
  const t0 = performance.now();
  const module = nn.withoutInit(() => createBackbone(MIGE_XL_2)).module;
  const buildMs = performance.now() - t0;
  const afterBuild = memory();
  const reader = SafetensorsReader.open(file);
  const weightBytes = reader.keys().reduce((n, k) => n + reader.info(k).byteLength, 0);
  const report = module.loadStateDict(reader);
  const loadMs = performance.now() - t0 - buildMs;
  // Spot check: a loaded tensor holds the file's values, not the zeros it was built with.
  const probe = 'blocks.27.mlp.fc2.weight';
  const fromFile = reader.read(probe).data;
  const inModel = module.stateDict().get(probe).dataSync();
  const loadedOk = fromFile.length === inModel.length && fromFile.every((v, i) => v === inModel[i]);
  reader.close();
  const peak = memory();
  emitResult({
    backend: BACKEND,
    weightBytes,
    parameters: module.numParameters(),
    buildMs: +buildMs.toFixed(0),
    loadMs: +loadMs.toFixed(0),
    report: { missing: report.missing.length, unexpected: report.unexpected.length, mismatched: report.mismatched.length },
    loadedValuesMatchFile: loadedOk,
    memoryBaseline: baseline,
    memoryAfterBuild: afterBuild,
    memoryPeak: peak,
    peakRssOverWeights: +(peak.peakRssBytes / weightBytes).toFixed(3),
    peakWasmHeapOverWeights: peak.wasmHeapBytes === null ? null : +(wasmHeapBytes() / weightBytes).toFixed(3),
  });
}

if (mode === 'write') write();
else load();
