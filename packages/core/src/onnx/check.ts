import { onnx, type OnnxNs } from './proto.js';
import { MigeInputError } from '../errors.js';
import { ONNX_OPSET } from './graph.js';

const DT = onnx.TensorProto.DataType;
const ELEM_BYTES: Partial<Record<number, number>> = { [DT.FLOAT]: 4, [DT.FLOAT16]: 2, [DT.DOUBLE]: 8, [DT.INT64]: 8, [DT.INT32]: 4, [DT.BOOL]: 1 };

/** What `checkOnnxModel` found: counts, for reports and tests. */
export interface OnnxModelSummary {
  opset: number;
  nodes: number;
  initializers: number;
  /** Total weight bytes stored in the file. */
  initializerBytes: number;
  opTypes: string[];
  inputs: string[];
  outputs: string[];
}

/**
 * Structural checks on a serialized model (npm has no port of onnx.checker): it decodes, imports
 * the default opset at 17 or newer, nodes are in topological order (every input is a graph
 * input, an initializer or an earlier node's output), no value is produced twice, every graph
 * output is produced, and each initializer holds (or, stored externally, declares) exactly as
 * many bytes as its dims say. External files themselves are not read.
 * Throws a MigeInputError listing every problem; returns a summary otherwise.
 */
export function checkOnnxModel(bytes: Uint8Array, where = 'ONNX model'): OnnxModelSummary {
  let model: OnnxNs.ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (error) {
    throw new MigeInputError(`does not decode as an ONNX ModelProto: ${error instanceof Error ? error.message : String(error)}`, where);
  }
  const problems: string[] = [];
  const opset = Number(model.opsetImport.find((o) => !o.domain)?.version ?? 0);
  if (opset < ONNX_OPSET) problems.push(`default-domain opset is ${opset}, expected ≥ ${ONNX_OPSET}`);
  if (!model.graph) throw new MigeInputError('has no graph', where);
  // Decoded messages type every repeated / optional field as nullable; default them once here.
  const graph = {
    initializer: model.graph.initializer ?? [],
    input: (model.graph.input ?? []).map((v) => v.name ?? ''),
    output: (model.graph.output ?? []).map((v) => v.name ?? ''),
    node: (model.graph.node ?? []).map((n) => ({ opType: n.opType ?? '', name: n.name ?? '', input: n.input ?? [], output: n.output ?? [] })),
  };
  const defined = new Set<string>();
  const define = (name: string, what: string) => {
    if (defined.has(name)) problems.push(`${what} '${name}' redefines an existing value`);
    defined.add(name);
  };
  let initializerBytes = 0;
  for (const t of graph.initializer) {
    const dims = (t.dims ?? []).map(Number);
    define(t.name ?? '', 'initializer');
    const count = dims.reduce((a, d) => a * d, 1);
    const size = ELEM_BYTES[t.dataType ?? 0];
    const external = t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL;
    const info = new Map((t.externalData ?? []).map((e) => [e.key ?? '', e.value ?? '']));
    const raw = external ? Number(info.get('length') ?? NaN) : (t.rawData?.length ?? 0);
    initializerBytes += raw;
    if (external && !info.get('location')) problems.push(`initializer '${t.name}' is external but names no location`);
    if (size === undefined) problems.push(`initializer '${t.name}' has unsupported data type ${t.dataType}`);
    else if (raw !== count * size) problems.push(`initializer '${t.name}' holds ${raw} bytes for dims [${dims.join(', ')}] (${count * size} expected)`);
  }
  for (const i of graph.input) define(i, 'graph input');
  const ops = new Set<string>();
  for (const n of graph.node) {
    ops.add(n.opType);
    for (const i of n.input) if (i !== '' && !defined.has(i)) problems.push(`${n.opType} '${n.name}' reads '${i}' before it is defined`);
    for (const o of n.output) define(o, `${n.opType} output`);
  }
  for (const o of graph.output) if (!defined.has(o)) problems.push(`graph output '${o}' is never produced`);
  if (graph.output.length === 0) problems.push('the graph has no outputs');
  if (problems.length > 0) throw new MigeInputError(`is not a valid ONNX graph:\n  ${problems.join('\n  ')}`, where);
  return {
    opset,
    nodes: graph.node.length,
    initializers: graph.initializer.length,
    initializerBytes,
    opTypes: [...ops].sort(),
    inputs: graph.input,
    outputs: graph.output,
  };
}
