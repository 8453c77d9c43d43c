import { writeFileSync } from 'node:fs';
import { onnx } from 'onnx-proto';

/**
 * Builds tiny ONNX models in the test itself (no binary fixtures): a linear "encoder"
 * Flatten → MatMul(W) whose output the test can recompute in JS.
 */

function dim(value: number | string): onnx.TensorShapeProto.IDimension {
  return typeof value === 'number' ? { dimValue: value } : { dimParam: value };
}

function valueInfo(name: string, elemType: number, dims: (number | string)[]): onnx.IValueInfoProto {
  return { name, type: { tensorType: { elemType, shape: { dim: dims.map(dim) } } } };
}

function saveModel(path: string, graph: onnx.IGraphProto): void {
  const model = onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    producerName: 'mige-test',
    graph,
  });
  writeFileSync(path, onnx.ModelProto.encode(model).finish());
}

/** Image model: x [N,3,s,s] → Flatten → MatMul W [3·s·s, d] → y [N,d]. W is row-major. */
export function writeLinearImageModel(path: string, size: number, weight: Float32Array, outDim: number, tokens?: number): void {
  const inDim = 3 * size * size;
  // With `tokens`, y is reshaped to [N, tokens, outDim / tokens], like a ViT's last_hidden_state.
  const reshape = tokens === undefined ? [] : [{ opType: 'Reshape', input: ['lin', 'shape'], output: ['y'] }];
  const shapeInit = tokens === undefined ? [] : [{ name: 'shape', dataType: onnx.TensorProto.DataType.INT64, dims: [3], int64Data: [0, tokens, outDim / tokens] }];
  saveModel(path, {
    name: 'linear_image',
    node: [
      { opType: 'Flatten', input: ['x'], output: ['flat'], attribute: [{ name: 'axis', i: 1, type: onnx.AttributeProto.AttributeType.INT }] },
      { opType: 'MatMul', input: ['flat', 'W'], output: [tokens === undefined ? 'y' : 'lin'] },
      ...reshape,
    ],
    initializer: [{ name: 'W', dataType: onnx.TensorProto.DataType.FLOAT, dims: [inDim, outDim], floatData: Array.from(weight) }, ...shapeInit],
    input: [valueInfo('x', onnx.TensorProto.DataType.FLOAT, ['N', 3, size, size])],
    output: [valueInfo('y', onnx.TensorProto.DataType.FLOAT, tokens === undefined ? ['N', outDim] : ['N', tokens, outDim / tokens])],
  });
}

/** Text model: ids int64 [N,L] → Cast float → MatMul W [L, d] → y [N,d]. */
export function writeLinearTextModel(path: string, length: number, weight: Float32Array, outDim: number): void {
  saveModel(path, {
    name: 'linear_text',
    node: [
      { opType: 'Cast', input: ['ids'], output: ['f'], attribute: [{ name: 'to', i: onnx.TensorProto.DataType.FLOAT, type: onnx.AttributeProto.AttributeType.INT }] },
      { opType: 'MatMul', input: ['f', 'W'], output: ['y'] },
    ],
    initializer: [{ name: 'W', dataType: onnx.TensorProto.DataType.FLOAT, dims: [length, outDim], floatData: Array.from(weight) }],
    input: [valueInfo('ids', onnx.TensorProto.DataType.INT64, ['N', length])],
    output: [valueInfo('y', onnx.TensorProto.DataType.FLOAT, ['N', outDim])],
  });
}

/** y = x·W for row-major x [n, k] and W [k, d], in float64 (compared with a tolerance). */
export function matmul(x: Float32Array, n: number, k: number, w: Float32Array, d: number): Float64Array {
  const y = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) {
      let s = 0;
      for (let t = 0; t < k; t++) s += x[i * k + t]! * w[t * d + j]!;
      y[i * d + j] = s;
    }
  }
  return y;
}
