// Inference graphs with fusedOps (OnnxGraphOptions) compute what the standard emitters compute:
// Linear as Gemm on rows, FastGelu with its bias, MultiHeadAttention with q|k|v biases and a key
// padding mask. Each graph is built both ways from the same weights and run on ONNX Runtime.
import { beforeAll, describe, expect, it } from 'vitest';
import type * as tf from '@tensorflow/tfjs-core';
import {
  emitAttention, emitFastGelu, emitFusedAttention, emitGeluTanh, emitLinear, initBackend, loadOnnxRuntime, nn, OnnxBuilder, Rng,
  tensorParamSource, type OnnxRuntime,
} from '../../src/index.js';
import { maxAbsDiff } from '../helpers.js';

let ort: OnnxRuntime;
beforeAll(async () => {
  await initBackend();
  ort = await loadOnnxRuntime();
});

const rng = new Rng('fused-ops');
const values = (n: number, scale = 1) => Float32Array.from({ length: n }, () => (rng.uniform() - 0.5) * 2 * scale);

async function run(g: OnnxBuilder, feeds: Record<string, { data: Float32Array; dims: number[] }>): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(g.serialize());
  const inputs = Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, new ort.Tensor('float32', v.data, v.dims)]));
  const out = await session.run(inputs);
  await session.release();
  return out.out?.data as Float32Array;
}

/** The same graph built with standard ops and with fused ones: their outputs and the second graph's op types. */
async function bothWays(
  build: (g: OnnxBuilder) => string,
  inputs: Record<string, number[]>,
  outShape: (number | string)[],
  params?: Iterable<readonly [string, tf.Tensor]>,
): Promise<{ standard: Float32Array; fused: Float32Array; fusedOps: string[]; fusedDomains: string[] }> {
  const feeds = Object.fromEntries(Object.entries(inputs).map(([k, dims]) => [k, { data: values(dims.reduce((a, b) => a * b, 1)), dims }]));
  const outs: Float32Array[] = [];
  let graph: OnnxBuilder | undefined;
  for (const fusedOps of [false, true]) {
    const source = params ? { params: { mode: 'initializer' as const, source: tensorParamSource(params) } } : {};
    const g = new OnnxBuilder({ name: 'fused-ops', fusedOps, ...source });
    // A symbolic batch axis, as the exported graphs have.
    for (const [k, dims] of Object.entries(inputs)) g.input(k, ['batch', ...dims.slice(1)]);
    g.output(build(g), 'out', outShape);
    outs.push(await run(g, feeds));
    graph = g;
  }
  const proto = (graph as OnnxBuilder).toModelProto();
  return {
    standard: outs[0] as Float32Array,
    fused: outs[1] as Float32Array,
    fusedOps: [...new Set((proto.graph?.node ?? []).map((n) => n.opType ?? ''))],
    fusedDomains: proto.opsetImport.map((o) => o.domain ?? ''),
  };
}

describe('fused inference ops', () => {
  it('Linear is one Gemm on rows (bias inside, W as stored) on 2-D and 3-D inputs, dynamic batch included', async () => {
    const linear = new nn.Linear(24, 40);
    for (const dims of [[5, 24], [2, 7, 24]]) {
      const r = await bothWays((g) => emitLinear(g, linear, 'x', 'lin'), { x: dims }, ['batch', ...dims.slice(1, -1), 40], [...linear.namedParameters()].map(([k, t]) => [`lin.${k}`, t] as const));
      expect(r.fused.length).toBe(dims.slice(0, -1).reduce((a, b) => a * b, 1) * 40);
      expect(maxAbsDiff(r.fused, r.standard)).toBeLessThan(1e-6);
      expect(r.fusedOps).toContain('Gemm');
      expect(r.fusedOps).not.toContain('MatMul');
      expect(r.fusedOps).not.toContain('Transpose');
    }
  });

  it('FastGelu(x, bias) is the tanh GELU of x + bias', async () => {
    const bias = values(16, 0.5);
    const r = await bothWays((g) => {
      const b = g.constantF32('b', bias, [16]);
      return g.fusedOps ? emitFastGelu(g, 'x', b) : emitGeluTanh(g, g.add('x', b));
    }, { x: [3, 5, 16] }, ['batch', 5, 16]);
    expect(maxAbsDiff(r.fused, r.standard)).toBeLessThan(2e-6);
    expect(r.fusedOps).toContain('FastGelu');
    expect(r.fusedOps).not.toContain('Sigmoid');
    expect(r.fusedDomains).toContain('com.microsoft');
  });

  it('MultiHeadAttention with q|k|v biases and a key padding mask is softmax(s·q·kᵀ + bias)·v per head', async () => {
    const [B, L, S, H, D] = [2, 6, 5, 4, 32];
    const qkvBias = values(3 * D, 0.3);
    // Padding at the end of each row, as captions are padded; every row keeps a key.
    const mask = Float32Array.from({ length: B * S }, (_, i) => ((i % S) < (i < S ? 3 : 5) ? 1 : 0));
    const r = await bothWays((g) => {
      const bias = g.constantF32('qkv_bias', qkvBias, [3 * D]);
      const m = g.constantF32('mask', mask, [B, S]);
      const scale = 1 / Math.sqrt(D / H);
      if (g.fusedOps) return emitFusedAttention(g, 'q', 'k', 'v', { heads: H, scale, qkvBias: bias, keyMask: g.cast(m, 'int32') });
      const [bq, bk, bv] = g.split(bias, [D, D, D], 0) as [string, string, string];
      const keyBias = g.unsqueeze(g.mulScalar(g.sub(g.scalar(1), m), -1e9), [1, 2]);
      return emitAttention(g, g.add('q', bq), g.add('k', bk), g.add('v', bv), { heads: H, scale, bias: keyBias });
    }, { q: [B, L, D], k: [B, S, D], v: [B, S, D] }, ['batch', L, D]);
    expect(maxAbsDiff(r.fused, r.standard)).toBeLessThan(1e-6);
    expect(r.fusedOps).toContain('MultiHeadAttention');
    expect(r.fusedOps).not.toContain('Softmax');
  });

  it('imports com.microsoft only when a node uses it', () => {
    const g = new OnnxBuilder({ name: 'plain', fusedOps: true });
    g.output(g.relu(g.input('x', [2])), 'out', [2]);
    expect(g.toModelProto().opsetImport.map((o) => o.domain ?? '')).toEqual(['']);
  });
});
