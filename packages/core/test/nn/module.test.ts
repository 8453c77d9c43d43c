import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LayerNorm, Linear, Module, ModuleList, manualSeed, describeLoadReport, isMetaTensor, renameKeys, withoutInit, withoutWeights } from '../../src/nn/index.js';
import { SafetensorsReader, writeSafetensors } from '../../src/io/index.js';
import { MigeInputError } from '../../src/errors.js';
import { useBackend } from '../helpers.js';

class Block extends Module {
  norm = this.module('norm', new LayerNorm(4));
  fc = this.module('fc', new Linear(4, 3));
}
class Net extends Module {
  blocks = this.module('blocks', new ModuleList([new Block(), new Block()]));
  head = this.module('head', new Linear(3, 2, false));
  pos = this.buffer('pos_embed', tf.reshape(tf.range(0, 6), [1, 6]));
}

describe('Module tree', () => {
  beforeAll(() => useBackend('wasm'));

  it('names parameters and buffers as PyTorch does', () => {
    expect([...new Net().stateDict().keys()]).toEqual([
      'pos_embed',
      'blocks.0.norm.weight', 'blocks.0.norm.bias', 'blocks.0.fc.weight', 'blocks.0.fc.bias',
      'blocks.1.norm.weight', 'blocks.1.norm.bias', 'blocks.1.fc.weight', 'blocks.1.fc.bias',
      'head.weight',
    ]);
  });

  it('round-trips a state dict and is deterministic under manualSeed', () => {
    manualSeed(7);
    const a = new Net();
    manualSeed(7);
    const same = new Net();
    expect(Array.from(a.blocks.at(1).fc.weight.dataSync())).toEqual(Array.from(same.blocks.at(1).fc.weight.dataSync()));
    const b = new Net();
    expect(Array.from(b.head.weight.dataSync())).not.toEqual(Array.from(a.head.weight.dataSync()));
    const report = b.loadStateDict(a.stateDict());
    expect(report).toEqual({ missing: [], unexpected: [], mismatched: [] });
    for (const [k, t] of a.stateDict()) expect(Array.from(b.stateDict().get(k)!.dataSync()), k).toEqual(Array.from(t.dataSync()));
  });

  it('reports missing, unexpected and misshapen keys by name, and strict loads change nothing', () => {
    const net = new Net();
    const before = Array.from(net.head.weight.dataSync());
    const sd = new Map<string, tf.Tensor>(net.stateDict());
    sd.delete('blocks.1.fc.bias');
    sd.set('blocks.9.fc.bias', tf.zeros([3]));
    sd.set('head.weight', tf.zeros([2, 4]));
    const err = (() => { try { net.loadStateDict(sd, { source: 'ckpt.safetensors' }); } catch (e) { return e; } })();
    expect(err).toBeInstanceOf(MigeInputError);
    expect(String((err as Error).message)).toMatch(/^ckpt\.safetensors: .*missing keys: blocks\.1\.fc\.bias.*unexpected keys: blocks\.9\.fc\.bias.*head\.weight: expected \[2,3\], got \[2,4\]/);
    expect(Array.from(net.head.weight.dataSync())).toEqual(before);
    const report = net.loadStateDict(sd, { strict: false });
    expect(report.missing).toEqual(['blocks.1.fc.bias']);
    expect(report.unexpected).toEqual(['blocks.9.fc.bias']);
    expect(report.mismatched).toEqual([{ key: 'head.weight', expected: [2, 3], actual: [2, 4] }]);
    expect(describeLoadReport(report)).toContain('shape mismatch for head.weight');
    expect(Array.from(net.head.weight.dataSync())).toEqual(before);
  });

  it('freezes and unfreezes subtrees', () => {
    const net = new Net();
    net.blocks.at(0).requiresGrad(false);
    const trainable = net.trainableParameters().map(([n]) => n);
    expect(trainable).not.toContain('blocks.0.fc.weight');
    expect(trainable).toContain('blocks.1.fc.weight');
    expect(net.numParameters(true)).toBe(net.numParameters() - (4 + 4 + 12 + 3));
    net.requiresGrad(true);
    expect(net.trainableParameters()).toHaveLength(net.namedParameters().length);
  });

  it('loads lazily from a safetensors reader, through a key mapping, into a module built without init', () => {
    const src = new Net();
    const file = join(mkdtempSync(join(tmpdir(), 'mige-sd-')), 'net.safetensors');
    // Stored under another layout's names, as a converted checkpoint would be.
    writeSafetensors(file, new Map([...src.stateDict()].map(([k, t]) => [`model.${k}`, { dtype: 'F32' as const, shape: [...t.shape], data: t.dataSync() as Float32Array }])));
    const reader = SafetensorsReader.open(file);
    const reads: string[] = [];
    const spy = { keys: () => reader.keys(), info: (n: string) => reader.info(n), read: (n: string) => { reads.push(n); return reader.read(n); } };
    const dst = withoutInit(() => new Net());
    expect(Array.from(dst.head.weight.dataSync())).toEqual([0, 0, 0, 0, 0, 0]);
    dst.loadStateDict(renameKeys(spy, (k) => (k.startsWith('model.') ? k.slice(6) : undefined)));
    expect(reads.sort()).toEqual([...src.stateDict().keys()].map((k) => `model.${k}`).sort());
    for (const [k, t] of src.stateDict()) expect(Array.from(dst.stateDict().get(k)!.dataSync()), k).toEqual(Array.from(t.dataSync()));
    reader.close();
  });

  it('a mismatched reader reads no tensor data at all', () => {
    const reads: string[] = [];
    const net = new Net();
    const reader = { keys: () => ['head.weight'], info: () => ({ shape: [9, 9] }), read: (n: string) => { reads.push(n); return tf.zeros([9, 9]); } };
    expect(() => net.loadStateDict(reader)).toThrow(/shape mismatch for head\.weight/);
    expect(reads).toEqual([]);
  });
});

describe('withoutWeights (shape-only parameters)', () => {
  beforeAll(() => useBackend('wasm'));

  it('builds the same tree with shapes and no data, and real buffers', () => {
    const before = tf.memory().numBytes;
    const big = withoutWeights(() => new Linear(3000, 2000));
    expect(tf.memory().numBytes).toBe(before); // 24 MB of parameters, none allocated
    expect(big.weight.shape).toEqual([2000, 3000]);
    big.dispose();
    const meta = withoutWeights(() => new Net());
    const real = new Net();
    expect(meta.namedParameters().map(([n, p]) => [n, p.shape])).toEqual(real.namedParameters().map(([n, p]) => [n, p.shape]));
    expect(meta.namedParameters().every(([, p]) => isMetaTensor(p))).toBe(true);
    expect([meta.hasWeights(), real.hasWeights()]).toEqual([false, true]);
    expect(Array.from(meta.stateDict().get('pos_embed')?.dataSync() ?? [])).toEqual([0, 1, 2, 3, 4, 5]);
    // Nested withoutInit stays shape-only; after the build, parameters are real again.
    expect(withoutWeights(() => withoutInit(() => new Linear(2, 2))).hasWeights()).toBe(false);
    expect(new Linear(2, 2).hasWeights()).toBe(true);
    meta.dispose();
    real.dispose();
  });

  it('reports a state dict against the shapes, and loading gives the parameters data', () => {
    const meta = withoutWeights(() => new Net());
    const donor = new Net();
    expect(meta.stateDictReport(donor.stateDict())).toEqual({ missing: [], unexpected: [], mismatched: [] });
    const sd = donor.stateDict();
    sd.delete('head.weight');
    sd.set('extra', tf.zeros([1]));
    expect(meta.stateDictReport(sd)).toEqual({ missing: ['head.weight'], unexpected: ['extra'], mismatched: [] });
    meta.loadStateDict(donor.stateDict());
    expect(meta.hasWeights()).toBe(true);
    const x = tf.ones([1, 4]);
    const run = (n: Net) => n.head.forward(n.blocks.at(1).fc.forward(n.blocks.at(1).norm.forward(x))).dataSync();
    expect(Array.from(run(meta))).toEqual(Array.from(run(donor)));
    meta.dispose();
    donor.dispose();
  });
});
