// core's own ONNX protobuf codec (src/onnx/proto.ts) against onnx-proto, the protobufjs build of
// onnx.proto it replaces (a devDependency, for this test only): the same objects give the same
// bytes, each decodes the other's bytes to the same values, and ONNX Runtime runs what it writes.
import { onnx as ref } from 'onnx-proto';
import { describe, expect, it } from 'vitest';
import { loadOnnxRuntime, OnnxBuilder } from '../../src/index.js';
import { onnx } from '../../src/onnx/proto.js';
import type { IModelProto } from '../../src/onnx/proto-types.js';

/** onnx-proto's decoded message as plain data: longs as numbers, bytes as Uint8Array, the fields it read and every repeated field. */
function refPlain(bytes: Uint8Array): unknown {
  const decoded = ref.ModelProto.decode(bytes);
  return normalise(ref.ModelProto.toObject(decoded, { longs: Number, arrays: true }));
}

/** Own fields only (defaults sit on the prototype in both), byte fields as plain Uint8Arrays (onnx-proto gives Buffers), without the fields ours does not model. */
function normalise(v: unknown): unknown {
  if (v instanceof Uint8Array) return Uint8Array.from(v);
  if (Array.isArray(v)) return v.map(normalise);
  if (typeof v === 'object' && v !== null) {
    const skip = new Set(['trainingInfo', 'functions', 'segment', 'doubleData', 'uint64Data', 'sparseInitializer', 'quantizationAnnotation', 'sparseTensor', 'sparseTensors', 'tp', 'typeProtos']);
    return Object.fromEntries(Object.entries(v).filter(([k]) => !skip.has(k)).map(([k, x]) => [k, normalise(x)]));
  }
  return v;
}

function builtModels(): Uint8Array[] {
  const fp32 = new OnnxBuilder({ name: 'fp32', metadata: { config: '{"a":1}', note: 'ünïcode' } });
  const x = fp32.input('x', ['batch', 3]);
  const w = fp32.weight('w', Float32Array.of(1, -2, 3, 0.5, 0.25, -0.125), [3, 2]);
  const h = fp32.layerNormalization(fp32.matMul(x, w), fp32.constantF32('g', [1, 1], [2]), undefined, 1e-6);
  fp32.output(fp32.transpose(fp32.unsqueeze(h, [-1]), [2, 0, 1]), 'y', [1, 'batch', 2]);
  const fp16 = new OnnxBuilder({ name: 'fp16', weightType: 'fp16' });
  const a = fp16.input('a', [2, 2]);
  fp16.output(fp16.add(a, fp16.weight('b', Float32Array.of(1, 2, 3, 4), [2, 2])), 'out', [2, 2]);
  const ext = new OnnxBuilder({ name: 'ext' });
  const e = ext.input('e', [1, 300]);
  ext.output(ext.matMul(e, ext.weight('big', new Float32Array(600).fill(0.5), [300, 2])), 'z', [1, 2]);
  return [fp32.serialize(), fp16.serialize(), ext.serializeExternal('m.onnx.data').model];
}

/** Every field this codec knows, with negative and large integers, floats, bytes and external data. */
const RICH: IModelProto = {
  irVersion: 8,
  producerName: 'test',
  producerVersion: '1.2',
  domain: 'ai.mige',
  modelVersion: 2 ** 40,
  docString: 'doc',
  opsetImport: [{ domain: '', version: 17 }, { domain: 'com.microsoft', version: 1 }],
  metadataProps: [{ key: 'k', value: 'v' }],
  graph: {
    name: 'g',
    docString: 'graph doc',
    node: [
      {
        input: ['x', ''],
        output: ['y'],
        name: 'n0',
        opType: 'Custom',
        domain: 'com.microsoft',
        docString: 'node doc',
        attribute: [
          { name: 'axis', type: 2, i: -1 },
          { name: 'alpha', type: 1, f: 0.1 },
          { name: 'mode', type: 3, s: new TextEncoder().encode('nearest') },
          { name: 'perm', type: 7, ints: [0, -2, 2 ** 35] },
          { name: 'scales', type: 6, floats: [1.5, -0.25] },
          { name: 'names', type: 8, strings: [Uint8Array.of(97), Uint8Array.of(98, 99)] },
          { name: 'value', type: 4, t: { name: 'c', dataType: 7, dims: [2], int64Data: [-5, 7] } },
          { name: 'body', type: 5, g: { name: 'sub', node: [{ opType: 'Identity', input: ['a'], output: ['b'] }] } },
          { name: 'ts', type: 9, tensors: [{ dataType: 1, dims: [1], floatData: [3.25] }, { dataType: 6, dims: [2], int32Data: [-1, 4] }] },
          { name: 'refd', type: 2, refAttrName: 'outer' },
        ],
      },
    ],
    initializer: [
      { name: 'w', dataType: 1, dims: [2, 1], rawData: Uint8Array.of(0, 0, 128, 63, 0, 0, 0, 64), docString: 'w doc' },
      {
        name: 'big',
        dataType: 10,
        dims: [1024],
        dataLocation: 1,
        externalData: [{ key: 'location', value: 'm.onnx.data' }, { key: 'offset', value: '64' }, { key: 'length', value: '2048' }],
      },
      { name: 's', dataType: 8, dims: [1], stringData: [Uint8Array.of(1, 2, 3)] },
    ],
    input: [{ name: 'x', docString: 'in', type: { tensorType: { elemType: 1, shape: { dim: [{ dimParam: 'batch', denotation: 'DATA_BATCH' }, { dimValue: 3 }] } } } }],
    output: [{ name: 'y', type: { denotation: 'TENSOR', tensorType: { elemType: 1, shape: { dim: [{ dimValue: 0 }] } } } }],
    valueInfo: [{ name: 'mid', type: { tensorType: { elemType: 7 } } }],
  },
};

describe("core's ONNX protobuf codec", () => {
  it('writes the bytes onnx-proto writes for the same message', () => {
    const ours = onnx.ModelProto.encode(onnx.ModelProto.create(RICH)).finish();
    const theirs = ref.ModelProto.encode(ref.ModelProto.create(RICH as ref.IModelProto)).finish();
    expect(ours.byteLength).toBeGreaterThan(300);
    expect(Buffer.from(ours).equals(Buffer.from(theirs))).toBe(true);
  });

  it("decodes onnx-proto's bytes to the values onnx-proto decodes", () => {
    const bytes = ref.ModelProto.encode(ref.ModelProto.create(RICH as ref.IModelProto)).finish();
    expect(normalise(onnx.ModelProto.decode(bytes))).toEqual(refPlain(bytes));
    expect(onnx.ModelProto.decode(bytes).graph?.node?.[0]?.attribute?.[3]?.ints).toEqual([0, -2, 2 ** 35]);
  });

  it("writes the builder's graphs (fp32, fp16, external data) so that onnx-proto re-encodes them byte for byte", () => {
    for (const bytes of builtModels()) {
      const again = ref.ModelProto.encode(ref.ModelProto.decode(bytes)).finish();
      expect(Buffer.from(again).equals(Buffer.from(bytes))).toBe(true);
      expect(normalise(onnx.ModelProto.decode(bytes))).toEqual(refPlain(bytes));
    }
  });

  it('re-encodes a decoded message byte for byte: defaults are not written back as set fields', () => {
    for (const bytes of [...builtModels(), onnx.ModelProto.encode(RICH).finish()]) {
      const decoded = onnx.ModelProto.decode(bytes);
      expect(Buffer.from(onnx.ModelProto.encode(decoded).finish()).equals(Buffer.from(bytes))).toBe(true);
      // A node's attribute of type INT holds only `i`: its f / s stay defaults, not own fields.
      const attr = decoded.graph?.node?.flatMap((n) => n.attribute ?? []).find((a) => a.type === 2);
      if (attr) expect(Object.keys(attr).filter((k) => ['f', 's', 't', 'g'].includes(k))).toEqual([]);
    }
  });

  it('reads unpacked repeated numbers (proto2 writers) and skips unknown fields', () => {
    // dims = [2, 3] unpacked (tag 8 twice), an unknown varint field 99, then name "t".
    const tensorBytes = [8, 2, 8, 3, 0x98, 0x06, 1, 0x42, 1, 0x74];
    const graph = [0x2a, tensorBytes.length, ...tensorBytes]; // GraphProto.initializer (5)
    const model = Uint8Array.from([0x3a, graph.length, ...graph]); // ModelProto.graph (7)
    const t = onnx.ModelProto.decode(model).graph?.initializer?.[0];
    expect(t?.dims).toEqual([2, 3]);
    expect(t?.name).toBe('t');
  });

  it('refuses truncated data', () => {
    const bytes = onnx.ModelProto.encode(RICH).finish();
    expect(() => onnx.ModelProto.decode(bytes.subarray(0, bytes.byteLength - 3))).toThrow();
  });

  it('writes graphs ONNX Runtime loads and runs', async () => {
    const ort = await loadOnnxRuntime();
    const [fp32] = builtModels();
    const session = await ort.InferenceSession.create(fp32 as Uint8Array);
    const x = Float32Array.of(1, 2, 3, -1, 0, 1);
    const { y } = await session.run({ x: new ort.Tensor('float32', x, [2, 3]) });
    // x @ w, then layer norm over the 2 outputs (gain 1, no bias): each row becomes ±1 (up to eps).
    expect(y?.dims).toEqual([1, 2, 2]);
    const out = Array.from(y?.data as Float32Array);
    const row = (r: number[]) => {
      const m = (r[0]! + r[1]!) / 2;
      const s = Math.sqrt(((r[0]! - m) ** 2 + (r[1]! - m) ** 2) / 2 + 1e-6);
      return r.map((v) => (v - m) / s);
    };
    const want0 = row([1 * 1 + 2 * 3 + 3 * 0.25, 1 * -2 + 2 * 0.5 + 3 * -0.125]);
    const want1 = row([-1 * 1 + 0 + 1 * 0.25, -1 * -2 + 0 + 1 * -0.125]);
    // y is [1, batch, 2] after the transpose: out = [row0, row1] flattened.
    expect(out[0]).toBeCloseTo(want0[0]!, 5);
    expect(out[1]).toBeCloseTo(want0[1]!, 5);
    expect(out[2]).toBeCloseTo(want1[0]!, 5);
    expect(out[3]).toBeCloseTo(want1[1]!, 5);
    await session.release();
  });
});
