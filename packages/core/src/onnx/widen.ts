import { onnx } from './proto.js';

/**
 * A serialized model with every float32 value widened to float64: graph inputs and outputs,
 * initializers and Cast targets. ONNX Runtime then evaluates the same graph in double precision,
 * which finite-difference checks of gradients need (float32 rounding swamps small differences).
 * Operators without a double kernel in ONNX Runtime's CPU provider (Erf, Conv, ...) fail to load.
 */
export function widenToFloat64(bytes: Uint8Array): Uint8Array {
  const DT = onnx.TensorProto.DataType;
  const model = onnx.ModelProto.decode(bytes);
  const graph = model.graph;
  if (!graph) return bytes;
  for (const v of [...(graph.input ?? []), ...(graph.output ?? [])]) {
    const t = v.type?.tensorType;
    if (t && t.elemType === DT.FLOAT) t.elemType = DT.DOUBLE;
  }
  for (const init of graph.initializer ?? []) {
    if (init.dataType !== DT.FLOAT || !init.rawData) continue;
    const raw = init.rawData;
    const f32 = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
    init.dataType = DT.DOUBLE;
    init.rawData = new Uint8Array(Float64Array.from(f32).buffer);
  }
  for (const node of graph.node ?? []) {
    if (node.opType !== 'Cast') continue;
    for (const a of node.attribute ?? []) if (a.name === 'to' && Number(a.i) === DT.FLOAT) a.i = DT.DOUBLE;
  }
  return onnx.ModelProto.encode(model).finish();
}
