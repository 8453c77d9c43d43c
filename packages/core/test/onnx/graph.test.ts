// The ONNX graph builder: fp16 rounding against hand-computed bit patterns, the builder's
// construction-time checks, and checkOnnxModel catching malformed graphs.
import { onnx } from 'onnx-proto';
import { describe, expect, it } from 'vitest';
import { checkOnnxModel, float16BitsToFloat32, float32ToFloat16Bits, MigeInputError, OnnxBuilder } from '../../src/index.js';

describe('float32ToFloat16Bits', () => {
  it('rounds to nearest even, with subnormals and overflow', () => {
    const cases: [number, number][] = [
      [1, 0x3c00], [-2, 0xc000], [0.1, 0x2e66], [65504, 0x7bff], [65520, 0x7c00], [-Infinity, 0xfc00],
      [1 + 2 ** -11, 0x3c00], // tie → even mantissa
      [1 + 3 * 2 ** -11, 0x3c02], // tie → even (rounds up)
      [2 ** -24, 0x0001], [2 ** -25, 0x0000], [3 * 2 ** -25, 0x0002], [1e-9, 0x0000], [6.1e-5, 0x03ff],
    ];
    const bits = float32ToFloat16Bits(Float32Array.from(cases.map(([v]) => v)));
    cases.forEach(([v, want], i) => expect(bits[i], `${v}`).toBe(want));
    expect(float16BitsToFloat32(0x2e66)).toBeCloseTo(0.0999755859375, 12);
    expect(Number.isNaN(float16BitsToFloat32(float32ToFloat16Bits(Float32Array.of(NaN))[0] as number))).toBe(true);
  });
});

describe('OnnxBuilder', () => {
  it('builds a graph that passes the check, with fp16 weights behind a Cast', () => {
    const g = new OnnxBuilder({ name: 'tiny', weightType: 'fp16' });
    const x = g.input('x', ['batch', 2]);
    const w = g.weight('w', Float32Array.of(1, 2, 3, 4), [2, 2]);
    g.output(g.add(g.matMul(x, w), g.scalar(1)), 'y', ['batch', 2]);
    const summary = checkOnnxModel(g.serialize());
    expect(summary).toMatchObject({ opset: 17, inputs: ['x'], outputs: ['y'], initializerBytes: 4 * 2 + 4 });
    expect(summary.opTypes).toEqual(['Add', 'Cast', 'Identity', 'MatMul']);
  });

  it('moves large initializers to an external file the check accepts', () => {
    const g = new OnnxBuilder({ name: 'ext' });
    const x = g.input('x', [1, 300]);
    const w = g.weight('w', new Float32Array(300 * 2).fill(0.5), [300, 2]);
    g.output(g.add(g.matMul(x, w), g.scalar(1)), 'y', [1, 2]);
    const ext = g.serializeExternal('m.onnx.data');
    expect(ext.dataBytes).toBe(300 * 2 * 4);
    expect(ext.data.reduce((n, c) => n + c.byteLength, 0)).toBe(ext.dataBytes);
    // The 4-byte scalar stays inline; the 2400-byte weight is only declared in the model.
    expect(checkOnnxModel(ext.model).initializerBytes).toBe(4 + 2400);
    expect(ext.model.byteLength).toBeLessThan(2400);
  });

  it('streams external data tensor by tensor, reading each parameter only when its bytes are asked for', () => {
    const read: string[] = [];
    const source = { read: (name: string, shape: readonly number[]) => (read.push(name), new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(name.length)) };
    const build = (): OnnxBuilder => {
      const g = new OnnxBuilder({ name: 'lazy', params: { mode: 'initializer', source } });
      const x = g.input('x', [1, 300]);
      const h = g.matMul(x, g.param('layer.a', [300, 5]));
      g.output(g.add(g.matMul(h, g.param('layer.bb', [5, 70])), g.param('bias', [70])), 'y', [1, 70]);
      return g;
    };
    const streamed = build().externalModel('m.onnx.data');
    // Layout first: the small bias (280 bytes) went inline, the two weights wait.
    expect(read).toEqual(['bias']);
    expect(streamed.tensors.map((t) => [t.name, t.pad])).toEqual([['layer.a', 0], ['layer.bb', 16]]); // 6000 bytes, then 64-byte alignment
    expect(streamed.tensors[1]?.bytes().byteLength).toBe(5 * 70 * 4);
    expect(read).toEqual(['bias', 'layer.bb']);
    const whole = build().serializeExternal('m.onnx.data');
    expect(Buffer.from(whole.model).equals(Buffer.from(streamed.model))).toBe(true);
    expect(Buffer.concat(whole.data).equals(Buffer.concat(streamed.tensors.flatMap((t) => [new Uint8Array(t.pad), t.bytes()])))).toBe(true);
    expect(streamed.dataBytes).toBe((300 * 5 + 5 * 70) * 4 + 16);
  });

  it('stores a parameter read only through a Transpose transposed, in fp32 and fp16, and leaves shared ones alone', () => {
    const values = (shape: readonly number[]) => Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => i + 0.5);
    const source = { read: (_: string, shape: readonly number[]) => values(shape) };
    for (const weightType of ['fp32', 'fp16'] as const) {
      const g = new OnnxBuilder({ name: 'fold', weightType, params: { mode: 'initializer', source } });
      const x = g.input('x', [2, 3]);
      const y = g.matMul(x, g.transpose(g.param('w', [4, 3]), [1, 0])); // [2, 4]
      const shared = g.param('s', [4, 4]);
      const z = g.add(g.matMul(y, g.transpose(shared, [1, 0])), g.reduceSum(shared, [0]));
      const cube = g.transpose(g.param('c', [2, 3, 4]), [2, 0, 1]); // [4, 2, 3]
      g.output(z, 'z', [2, 4]);
      g.output(cube, 'cube', [4, 2, 3]);
      expect(g.foldParamTransposes()).toBe(2);
      const ext = g.serializeExternal('d', 0);
      const model = onnx.ModelProto.decode(ext.model);
      const inits = new Map((model.graph?.initializer ?? []).map((t) => [t.name, t]));
      const w = weightType === 'fp32' ? 'w' : 'w_fp16', c = weightType === 'fp32' ? 'c' : 'c_fp16', sh = weightType === 'fp32' ? 's' : 's_fp16';
      expect(inits.get(w)?.dims?.map(Number)).toEqual([3, 4]);
      expect(inits.get(c)?.dims?.map(Number)).toEqual([4, 2, 3]);
      expect(inits.get(sh)?.dims?.map(Number)).toEqual([4, 4]); // two readers: not folded
      expect((model.graph?.node ?? []).filter((n) => n.opType === 'Transpose')).toHaveLength(1);
      // The stored values, in order: w's [4, 3] transposed, s as it is, c's [2, 3, 4] by [2, 0, 1].
      const stored = Buffer.concat(ext.data);
      const valuesOf = (name: string, n: number): number[] => {
        const offset = Number(inits.get(name)?.externalData?.find((e) => e.key === 'offset')?.value);
        return Array.from({ length: n }, (_, k) => (weightType === 'fp32' ? stored.readFloatLE(offset + k * 4) : float16BitsToFloat32(stored.readUInt16LE(offset + k * 2))));
      };
      expect(valuesOf(w, 12)).toEqual([0, 1, 2].flatMap((j) => [0, 1, 2, 3].map((i) => i * 3 + j + 0.5)));
      expect(valuesOf(sh, 16)).toEqual(Array.from(values([4, 4])));
      expect(valuesOf(c, 24)).toEqual([0, 1, 2, 3].flatMap((k) => [0, 1].flatMap((i) => [0, 1, 2].map((j) => i * 12 + j * 4 + k + 0.5))));
    }
  });

  it('refuses a node whose input does not exist yet, and duplicate inputs', () => {
    const g = new OnnxBuilder({ name: 'bad' });
    g.input('x', [1]);
    expect(() => g.add('x', 'nope')).toThrow("Add input 'nope' is not defined yet");
    expect(() => g.input('x', [1])).toThrow(MigeInputError);
    expect(() => g.serialize()).toThrow('the graph has no outputs');
  });
});

describe('checkOnnxModel', () => {
  const F = onnx.TensorProto.DataType.FLOAT;
  const io = (name: string) => ({ name, type: { tensorType: { elemType: F, shape: { dim: [{ dimValue: 1 }] } } } });
  const encode = (graph: onnx.IGraphProto, opset = 17) =>
    onnx.ModelProto.encode(onnx.ModelProto.create({ irVersion: 8, opsetImport: [{ domain: '', version: opset }], graph })).finish();

  it('lists out-of-order nodes, short initializers, unproduced outputs and an old opset', () => {
    const bytes = encode(
      {
        node: [
          { opType: 'Relu', input: ['h'], output: ['y'], name: 'late' },
          { opType: 'Neg', input: ['x'], output: ['h'], name: 'early' },
        ],
        initializer: [{ name: 'w', dataType: F, dims: [3], rawData: new Uint8Array(8) }],
        input: [io('x')],
        output: [io('y'), io('z')],
      },
      13,
    );
    const err = (() => {
      try {
        checkOnnxModel(bytes, 'm.onnx');
      } catch (e) {
        return e as Error;
      }
      throw new Error('expected a failure');
    })();
    expect(err).toBeInstanceOf(MigeInputError);
    expect(err.message).toContain("Relu 'late' reads 'h' before it is defined");
    expect(err.message).toContain("initializer 'w' holds 8 bytes for dims [3] (12 expected)");
    expect(err.message).toContain("graph output 'z' is never produced");
    expect(err.message).toContain('opset is 13');
    expect(err.message).toContain('m.onnx');
  });

  it('rejects bytes that are not a model', () => {
    expect(() => checkOnnxModel(new TextEncoder().encode('definitely not protobuf'), 'junk.onnx')).toThrow('junk.onnx');
  });
});
