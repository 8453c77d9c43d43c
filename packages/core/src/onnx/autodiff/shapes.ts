import { MigeInputError } from '../../errors.js';
import type { OnnxElemType, OnnxGraph } from '../graph.js';
import { attrInt, attrInts, describeNode, inputsOf, outputsOf, type Node } from './node-attrs.js';

/** What is known statically about a value: its shape, element type, and (small int tensors) its values. */
export interface ValueFacts {
  shape: number[];
  type: OnnxElemType;
  /** Known values of small integer tensors (shapes, axes, indices), row-major. */
  values?: number[];
}

const CAST_NAMES: Record<number, OnnxElemType> = { 1: 'float32', 10: 'float16', 11: 'float64', 7: 'int64', 6: 'int32', 9: 'bool' };
/** Integer tensors up to this size have their values tracked (shapes, axes, slice bounds, buckets). */
const MAX_TRACKED = 1 << 16;

const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** numpy broadcasting of static shapes. */
export function broadcastShapes(a: readonly number[], b: readonly number[], where: string): number[] {
  const n = Math.max(a.length, b.length);
  return Array.from({ length: n }, (_, i) => {
    const x = a[a.length - n + i] ?? 1;
    const y = b[b.length - n + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) throw new MigeInputError(`shapes [${a.join(', ')}] and [${b.join(', ')}] do not broadcast`, where);
    return x === 1 ? y : x;
  });
}

/** An axis in [-rank, rank) as a non-negative index. */
export function normAxis(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}

/**
 * Static shape inference over a graph whose inputs all have fixed dims (training graphs do):
 * every value's shape and type, and the values of small integer tensors, so that shape
 * arguments (Reshape targets, Slice bounds, Split sizes) are known where gradients need them.
 * Throws on an operator it does not know, naming it.
 */
export function inferShapes(g: OnnxGraph): Map<string, ValueFacts> {
  const facts = new Map<string, ValueFacts>();
  for (const i of g.inputInfos()) {
    if (i.dims.some((d) => typeof d !== 'number')) throw new MigeInputError(`input '${i.name}' has a symbolic dim: training graphs need fixed shapes`, `OnnxGraph ${g.name}`);
    facts.set(i.name, { shape: i.dims as number[], type: i.type });
  }
  for (const node of g.nodeList()) inferNode(g, node, facts);
  return facts;
}

function factOf(g: OnnxGraph, facts: Map<string, ValueFacts>, name: string, node: Node): ValueFacts {
  const known = facts.get(name);
  if (known) return known;
  const c = g.constantValue(name);
  const init = g.initializerInfo(name);
  if (c) {
    const f: ValueFacts = { shape: c.dims, type: c.type, ...(c.type !== 'float32' && c.values.length <= MAX_TRACKED ? { values: c.values } : {}) };
    facts.set(name, f);
    return f;
  }
  if (init) {
    // A parameter initializer, whose values are not in memory.
    const f: ValueFacts = { shape: init.dims, type: init.type };
    facts.set(name, f);
    return f;
  }
  throw new MigeInputError(`${describeNode(node)} reads '${name}', whose shape is unknown`, `OnnxGraph ${g.name}`);
}

function inferNode(g: OnnxGraph, node: Node, facts: Map<string, ValueFacts>): void {
  const where = `${describeNode(node)} in ${g.name}`;
  const ins = inputsOf(node).map((n) => (n === '' ? undefined : factOf(g, facts, n, node)));
  const outs = outputsOf(node);
  const x = ins[0] as ValueFacts;
  const set = (i: number, f: ValueFacts): void => {
    const name = outs[i];
    if (name) facts.set(name, f);
  };
  const need = (i: number, what: string): number[] => {
    const v = ins[i]?.values;
    if (!v) throw new MigeInputError(`${what} (input ${i}) must be a constant or computable from static shapes`, where);
    return v;
  };
  const op = node.opType ?? '';
  switch (op) {
    case 'Add': case 'Sub': case 'Mul': case 'Div': case 'Pow': case 'Max': case 'Min': {
      const shape = broadcastShapes(x.shape, (ins[1] as ValueFacts).shape, where);
      const v = elementwiseInt(op, x, ins[1] as ValueFacts, shape);
      set(0, { shape, type: x.type, ...(v ? { values: v } : {}) });
      break;
    }
    case 'Equal': case 'Less': case 'Greater': case 'LessOrEqual': case 'GreaterOrEqual': case 'And': case 'Or':
      set(0, { shape: broadcastShapes(x.shape, (ins[1] as ValueFacts).shape, where), type: 'bool' });
      break;
    case 'Where':
      set(0, { shape: broadcastShapes(broadcastShapes(x.shape, (ins[1] as ValueFacts).shape, where), (ins[2] as ValueFacts).shape, where), type: (ins[1] as ValueFacts).type });
      break;
    case 'Sum': {
      let shape = x.shape;
      for (const f of ins.slice(1)) shape = broadcastShapes(shape, (f as ValueFacts).shape, where);
      set(0, { shape, type: x.type });
      break;
    }
    case 'Identity': case 'Neg': case 'Sqrt': case 'Reciprocal': case 'Erf': case 'Tanh': case 'Sigmoid': case 'Exp': case 'Log':
    case 'Cos': case 'Sin': case 'Relu': case 'Abs': case 'Softmax': case 'Not':
      set(0, { ...x });
      break;
    case 'Cast': {
      const type = CAST_NAMES[attrInt(node, 'to', 1)] ?? 'float32';
      set(0, { shape: x.shape, type, ...(x.values && type !== 'float32' && type !== 'float16' ? { values: x.values } : {}) });
      break;
    }
    case 'Shape': {
      const r = x.shape.length;
      const start = normAxis(attrInt(node, 'start', 0), r);
      const end = Math.min(r, normAxis(attrInt(node, 'end', r), r));
      const values = x.shape.slice(Math.max(0, start), end);
      set(0, { shape: [values.length], type: 'int64', values });
      break;
    }
    case 'MatMul': {
      const b = ins[1] as ValueFacts;
      if (x.shape.length < 2 || b.shape.length < 2) throw new MigeInputError('1-D MatMul operands are not supported', where);
      const m = x.shape[x.shape.length - 2] as number, k = x.shape[x.shape.length - 1] as number;
      const k2 = b.shape[b.shape.length - 2] as number, n = b.shape[b.shape.length - 1] as number;
      if (k !== k2) throw new MigeInputError(`MatMul inner dims ${k} and ${k2} differ`, where);
      const batch = broadcastShapes(x.shape.slice(0, -2), b.shape.slice(0, -2), where);
      set(0, { shape: [...batch, m, n], type: x.type });
      break;
    }
    case 'Gemm': {
      const b = ins[1] as ValueFacts;
      const m = attrInt(node, 'transA', 0) ? x.shape[1] : x.shape[0];
      const n = attrInt(node, 'transB', 0) ? b.shape[0] : b.shape[1];
      set(0, { shape: [m as number, n as number], type: x.type });
      break;
    }
    case 'Reshape': {
      const target = need(1, 'the Reshape target');
      const shape = target.map((d, i) => (d === 0 ? (x.shape[i] as number) : d));
      const known = shape.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
      const resolved = shape.map((d) => (d === -1 ? size(x.shape) / known : d));
      if (size(resolved) !== size(x.shape)) throw new MigeInputError(`cannot reshape [${x.shape.join(', ')}] to [${target.join(', ')}]`, where);
      set(0, { shape: resolved, type: x.type, ...(x.values ? { values: x.values } : {}) });
      break;
    }
    case 'Transpose': {
      const perm = attrInts(node, 'perm') ?? x.shape.map((_, i) => x.shape.length - 1 - i);
      set(0, { shape: perm.map((p) => x.shape[p] as number), type: x.type });
      break;
    }
    case 'Concat': {
      const axis = normAxis(attrInt(node, 'axis', 0), x.shape.length);
      const parts = ins as ValueFacts[];
      const shape = [...x.shape];
      shape[axis] = parts.reduce((n, f) => n + (f.shape[axis] as number), 0);
      const values = parts.every((f) => f.values) && x.shape.length === 1 ? parts.flatMap((f) => f.values as number[]) : undefined;
      set(0, { shape, type: x.type, ...(values ? { values } : {}) });
      break;
    }
    case 'Split': {
      const axis = normAxis(attrInt(node, 'axis', 0), x.shape.length);
      const sizes = ins[1] ? need(1, 'the Split sizes') : Array<number>(outs.length).fill((x.shape[axis] as number) / outs.length);
      sizes.forEach((s, i) => {
        const shape = [...x.shape];
        shape[axis] = s;
        set(i, { shape, type: x.type });
      });
      break;
    }
    case 'Slice': {
      const { shape, ranges } = sliceRanges(x.shape, need(1, 'Slice starts'), need(2, 'Slice ends'), ins[3] ? need(3, 'Slice axes') : undefined, ins[4] ? need(4, 'Slice steps') : undefined, where);
      const values = x.values && x.shape.length === 1 ? x.values.slice((ranges[0] as SliceRange).start, (ranges[0] as SliceRange).end) : undefined;
      set(0, { shape, type: x.type, ...(values && (ranges[0] as SliceRange).step === 1 ? { values } : {}) });
      break;
    }
    case 'Pad': {
      const pads = need(1, 'the pads');
      const r = x.shape.length;
      set(0, { shape: x.shape.map((d, i) => d + (pads[i] as number) + (pads[i + r] as number)), type: x.type });
      break;
    }
    case 'Gather': {
      const axis = normAxis(attrInt(node, 'axis', 0), x.shape.length);
      const idx = ins[1] as ValueFacts;
      const shape = [...x.shape.slice(0, axis), ...idx.shape, ...x.shape.slice(axis + 1)];
      const values = x.values && idx.values && x.shape.length === 1 ? idx.values.map((i) => x.values?.[i < 0 ? i + x.shape[0]! : i] as number) : undefined;
      set(0, { shape, type: x.type, ...(values ? { values } : {}) });
      break;
    }
    case 'Unsqueeze': {
      const rank = x.shape.length + need(1, 'the Unsqueeze axes').length;
      const axes = new Set(need(1, 'the Unsqueeze axes').map((a) => normAxis(a, rank)));
      const shape: number[] = [];
      let j = 0;
      for (let i = 0; i < rank; i++) shape.push(axes.has(i) ? 1 : (x.shape[j++] as number));
      set(0, { shape, type: x.type, ...(x.values ? { values: x.values } : {}) });
      break;
    }
    case 'Squeeze': {
      const axes = new Set((ins[1] ? need(1, 'the Squeeze axes') : x.shape.flatMap((d, i) => (d === 1 ? [i] : []))).map((a) => normAxis(a, x.shape.length)));
      set(0, { shape: x.shape.filter((_, i) => !axes.has(i)), type: x.type, ...(x.values ? { values: x.values } : {}) });
      break;
    }
    case 'Expand':
      set(0, { shape: broadcastShapes(x.shape, need(1, 'the Expand shape'), where), type: x.type });
      break;
    case 'ReduceMean': case 'ReduceSum': {
      const r = x.shape.length;
      const list = op === 'ReduceMean' ? attrInts(node, 'axes') : ins[1]?.values;
      const axes = new Set((list ?? x.shape.map((_, i) => i)).map((a) => normAxis(a, r)));
      const keep = attrInt(node, 'keepdims', 1) === 1;
      const shape = keep ? x.shape.map((d, i) => (axes.has(i) ? 1 : d)) : x.shape.filter((_, i) => !axes.has(i));
      set(0, { shape, type: x.type });
      break;
    }
    case 'LayerNormalization': {
      set(0, { ...x });
      const axis = normAxis(attrInt(node, 'axis', -1), x.shape.length);
      const stats = x.shape.map((d, i) => (i < axis ? d : 1));
      set(1, { shape: stats, type: 'float32' });
      set(2, { shape: stats, type: 'float32' });
      break;
    }
    case 'Conv': case 'ConvTranspose': {
      const w = ins[1] as ValueFacts;
      const strides = attrInts(node, 'strides') ?? [1, 1];
      const pads = attrInts(node, 'pads') ?? [0, 0, 0, 0];
      const dil = attrInts(node, 'dilations') ?? [1, 1];
      const k = w.shape.slice(2);
      const spatial = x.shape.slice(2).map((d, i) => {
        const s = strides[i] as number, kk = ((k[i] as number) - 1) * (dil[i] as number) + 1;
        const padTotal = (pads[i] as number) + (pads[i + 2] as number);
        if (op === 'Conv') return Math.floor((d + padTotal - kk) / s) + 1;
        const outPad = attrInts(node, 'output_padding')?.[i] ?? 0;
        return s * (d - 1) + outPad + kk - padTotal;
      });
      const channels = op === 'Conv' ? (w.shape[0] as number) : (w.shape[1] as number) * attrInt(node, 'group', 1);
      set(0, { shape: [x.shape[0] as number, channels, ...spatial], type: x.type });
      break;
    }
    case 'Resize': {
      const scales = ins[2] ? g.constantValue(inputsOf(node)[2] as string)?.values : undefined;
      if (!scales) throw new MigeInputError('Resize needs constant scales', where);
      set(0, { shape: x.shape.map((d, i) => Math.floor(d * (scales[i] as number))), type: x.type });
      break;
    }
    case 'ScatterND':
      set(0, { ...x });
      break;
    case 'ConstantOfShape':
      set(0, { shape: need(0, 'the shape'), type: 'float32' });
      break;
    default:
      throw new MigeInputError(`no shape rule for operator ${op}`, where);
  }
}

/** Integer arithmetic on tracked values (shape computations). */
function elementwiseInt(op: string, a: ValueFacts, b: ValueFacts, shape: number[]): number[] | undefined {
  if (!a.values || !b.values || a.type === 'float32' || shape.length > 1) return undefined;
  const n = size(shape);
  const at = (v: number[], i: number): number => (v.length === 1 ? (v[0] as number) : (v[i] as number));
  const f = { Add: (p: number, q: number) => p + q, Sub: (p: number, q: number) => p - q, Mul: (p: number, q: number) => p * q, Div: (p: number, q: number) => Math.trunc(p / q) }[op as 'Add'];
  return f ? Array.from({ length: n }, (_, i) => f(at(a.values as number[], i), at(b.values as number[], i))) : undefined;
}

export interface SliceRange {
  axis: number;
  start: number;
  end: number;
  step: number;
}

/** ONNX Slice's clamping rules on static dims: the output shape and each sliced axis's range. */
export function sliceRanges(shape: readonly number[], starts: number[], ends: number[], axesIn: number[] | undefined, stepsIn: number[] | undefined, where: string): { shape: number[]; ranges: SliceRange[] } {
  const r = shape.length;
  const axes = (axesIn ?? starts.map((_, i) => i)).map((a) => normAxis(a, r));
  const out = [...shape];
  const ranges = axes.map((axis, i) => {
    const d = shape[axis] as number;
    const step = stepsIn?.[i] ?? 1;
    if (step !== 1) throw new MigeInputError(`Slice steps other than 1 are not supported (axis ${axis}, step ${step})`, where);
    const clamp = (v: number): number => Math.min(d, Math.max(0, v < 0 ? v + d : v));
    const start = clamp(starts[i] as number), end = Math.max(start, clamp(ends[i] as number));
    out[axis] = end - start;
    return { axis, start, end, step };
  });
  return { shape: out, ranges };
}
