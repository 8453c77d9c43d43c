import { MigeInputError } from '../../errors.js';
import type { OnnxBuilder } from '../builder.js';
import { attrFloat, attrInt, attrInts, describeNode, inputsOf, outputsOf, type Node } from './node-attrs.js';
import { normAxis, sliceRanges, type ValueFacts } from './shapes.js';

/**
 * Reverse-mode rules, one per ONNX operator: given a node and the gradients of its outputs,
 * the gradients of its inputs, written as more ONNX nodes. Shapes are static (from
 * `inferShapes`), so broadcasting is undone by ReduceSum over known axes and every shape
 * argument is a constant.
 */

export interface RuleContext {
  g: OnnxBuilder;
  /** Static facts of every forward value. */
  fact(value: string): ValueFacts;
  /** Whether the gradient of this input is wanted (it leads back to a parameter). */
  wants(value: string): boolean;
  /** The forward node that produces a value (undefined for inputs and initializers). */
  producer(value: string): Node | undefined;
  /** How many forward nodes read a value. */
  consumers(value: string): number;
  /** Adds a gradient contribution to any wanted value (for rules that see through a producer). */
  contribute(value: string, grad: string): void;
}

/** Per input, its gradient value (undefined: none, or not wanted). */
export type InputGrads = (string | undefined)[];
type Rule = (node: Node, dOut: (string | undefined)[], ctx: RuleContext) => InputGrads;

const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** Sums a gradient of shape `from` down to `to` (undoing numpy broadcasting). */
export function sumTo(g: OnnxBuilder, grad: string, from: readonly number[], to: readonly number[]): string {
  if (from.length === to.length && from.every((d, i) => d === to[i])) return grad;
  const lead = from.length - to.length;
  const axes: number[] = [];
  from.forEach((d, i) => {
    const t = i < lead ? undefined : to[i - lead];
    if (t === undefined || (t === 1 && d !== 1)) axes.push(i);
  });
  const reduced = axes.length > 0 ? g.reduceSum(grad, axes, true) : grad;
  return g.reshape(reduced, to);
}

/** The permutation that swaps the last two axes. */
function swapLast(rank: number): number[] {
  const p = Array.from({ length: rank }, (_, i) => i);
  p[rank - 1] = rank - 2;
  p[rank - 2] = rank - 1;
  return p;
}

/**
 * v with its last two axes swapped: the source itself when v is such a Transpose (a Linear's
 * Wᵀ gives W back), so the backward adds no Transpose of a Transpose for the runtime to fold.
 */
function swapped(ctx: RuleContext, v: string): string {
  const rank = ctx.fact(v).shape.length;
  const t = ctx.producer(v);
  if (t?.opType === 'Transpose') {
    const perm = attrInts(t, 'perm') ?? Array.from({ length: rank }, (_, i) => rank - 1 - i);
    if (perm.join() === swapLast(rank).join()) return ins(t)[0] as string;
  }
  return ctx.g.transpose(v, swapLast(rank));
}

/**
 * v (any shape of `rows`·`cols` elements) as the [cols, rows] transpose of its [rows, cols] view,
 * through a Transpose that ONNX Runtime keeps. A plain 2-D Transpose feeding a MatMul is folded
 * into it (FusedMatMul, transA), and MLAS then transposes blocks of A again for every column
 * panel of B: the weight-gradient products dW = dyᵀ·x ran 8-27% slower that way than one
 * transpose up front (DiT-XL's shapes, [1024, n]ᵀ·[1024, k], 1 thread). The fold only looks at
 * a Transpose feeding the MatMul directly, so this one transposes a [rows, cols, 1] view.
 */
function keptTranspose(g: OnnxBuilder, v: string, rows: number, cols: number): string {
  return g.reshape(g.transpose(g.reshape(v, [rows, cols, 1]), [1, 0, 2]), [cols, rows]);
}

function ins(node: Node): string[] {
  return inputsOf(node);
}

/** The constant scalar value of a float input (e.g. Pow's exponent), or undefined. */
function scalarConstant(g: OnnxBuilder, name: string): number | undefined {
  const c = g.constantValue(name);
  return c && c.values.length === 1 ? c.values[0] : undefined;
}

/** Binary elementwise ops: each input's gradient computed at the output's shape, then summed to the input's. */
function binary(local: (node: Node, dy: string, ctx: RuleContext) => [(() => string) | undefined, (() => string) | undefined]): Rule {
  return (node, [dy], ctx) => {
    if (!dy) return [];
    const [a, b] = ins(node) as [string, string];
    const y = outputsOf(node)[0] as string;
    const [da, db] = local(node, dy, ctx);
    const out = ctx.fact(y).shape;
    return [
      da && ctx.wants(a) ? sumTo(ctx.g, da(), out, ctx.fact(a).shape) : undefined,
      db && ctx.wants(b) ? sumTo(ctx.g, db(), out, ctx.fact(b).shape) : undefined,
    ];
  };
}

/** Unary elementwise ops: dx = f(x, y, dy). */
function unary(local: (g: OnnxBuilder, x: string, y: string, dy: string) => string): Rule {
  return (node, [dy], ctx) => {
    const x = ins(node)[0] as string;
    return dy && ctx.wants(x) ? [local(ctx.g, x, outputsOf(node)[0] as string, dy)] : [];
  };
}

/** Ops that only move or view elements: dx is dy reshaped to x's shape. */
const reshapeBack: Rule = (node, [dy], ctx) => {
  const x = ins(node)[0] as string;
  return dy && ctx.wants(x) ? [ctx.g.reshape(dy, ctx.fact(x).shape)] : [];
};

const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);

const RULES: Record<string, Rule> = {
  Identity: (node, [dy]) => [dy],
  Add: binary((_n, dy) => [() => dy, () => dy]),
  Sub: binary((_n, dy, ctx) => [() => dy, () => ctx.g.neg(dy)]),
  Mul: binary((node, dy, ctx) => {
    const [a, b] = ins(node) as [string, string];
    return [() => ctx.g.mul(dy, b), () => ctx.g.mul(dy, a)];
  }),
  Div: binary((node, dy, ctx) => {
    const [, b] = ins(node) as [string, string];
    const y = outputsOf(node)[0] as string;
    // d(a/b)/db = −y/b.
    return [() => ctx.g.div(dy, b), () => ctx.g.neg(ctx.g.div(ctx.g.mul(dy, y), b))];
  }),
  Pow: binary((node, dy, ctx) => {
    const [a, b] = ins(node) as [string, string];
    const c = scalarConstant(ctx.g, b);
    if (c === undefined) throw new MigeInputError('Pow needs a constant scalar exponent to be differentiated', describeNode(node));
    if (ctx.wants(b)) throw new MigeInputError('no gradient for a Pow exponent', describeNode(node));
    const g = ctx.g;
    const da = (): string => {
      if (c === 2) return g.mul(dy, g.mulScalar(a, 2));
      if (c === 3) return g.mul(dy, g.mulScalar(g.mul(a, a), 3));
      return g.mul(dy, g.mulScalar(g.pow(a, g.scalar(c - 1)), c));
    };
    return [da, undefined];
  }),
  Max: binary((node, dy, ctx) => {
    const [a, b] = ins(node) as [string, string];
    const pick = ctx.g.greaterOrEqual(a, b);
    const zero = ctx.g.scalar(0);
    return [() => ctx.g.where(pick, dy, zero), () => ctx.g.where(pick, zero, dy)];
  }),
  Min: binary((node, dy, ctx) => {
    const [a, b] = ins(node) as [string, string];
    const pick = ctx.g.greaterOrEqual(b, a);
    const zero = ctx.g.scalar(0);
    return [() => ctx.g.where(pick, dy, zero), () => ctx.g.where(pick, zero, dy)];
  }),
  Where: (node, [dy], ctx) => {
    if (!dy) return [];
    const [c, a, b] = ins(node) as [string, string, string];
    const out = ctx.fact(outputsOf(node)[0] as string).shape;
    const zero = ctx.g.scalar(0);
    return [
      undefined,
      ctx.wants(a) ? sumTo(ctx.g, ctx.g.where(c, dy, zero), out, ctx.fact(a).shape) : undefined,
      ctx.wants(b) ? sumTo(ctx.g, ctx.g.where(c, zero, dy), out, ctx.fact(b).shape) : undefined,
    ];
  },
  Sum: (node, [dy], ctx) => {
    if (!dy) return [];
    const out = ctx.fact(outputsOf(node)[0] as string).shape;
    return ins(node).map((x) => (ctx.wants(x) ? sumTo(ctx.g, dy, out, ctx.fact(x).shape) : undefined));
  },
  Neg: unary((g, _x, _y, dy) => g.neg(dy)),
  Sqrt: unary((g, _x, y, dy) => g.div(g.mulScalar(dy, 0.5), y)),
  Reciprocal: unary((g, _x, y, dy) => g.neg(g.mul(dy, g.mul(y, y)))),
  Exp: unary((g, _x, y, dy) => g.mul(dy, y)),
  Log: unary((g, x, _y, dy) => g.div(dy, x)),
  Erf: unary((g, x, _y, dy) => g.mul(dy, g.mulScalar(g.exp(g.neg(g.mul(x, x))), TWO_OVER_SQRT_PI))),
  Tanh: unary((g, _x, y, dy) => g.mul(dy, g.sub(g.scalar(1), g.mul(y, y)))),
  Sigmoid: unary((g, _x, y, dy) => g.mul(dy, g.mul(y, g.sub(g.scalar(1), y)))),
  Relu: unary((g, x, _y, dy) => g.where(g.greater(x, g.scalar(0)), dy, g.scalar(0))),
  Cos: unary((g, x, _y, dy) => g.neg(g.mul(dy, g.sin(x)))),
  Sin: unary((g, x, _y, dy) => g.mul(dy, g.cos(x))),
  Cast: (node, [dy], ctx) => {
    const x = ins(node)[0] as string;
    if (!dy || !ctx.wants(x)) return [];
    const t = ctx.fact(x).type;
    return [t === 'float32' ? dy : ctx.g.cast(dy, t)];
  },
  Reshape: reshapeBack,
  Unsqueeze: reshapeBack,
  Squeeze: reshapeBack,
  Transpose: (node, [dy], ctx) => {
    const x = ins(node)[0] as string;
    if (!dy || !ctx.wants(x)) return [];
    const r = ctx.fact(x).shape.length;
    const perm = attrInts(node, 'perm') ?? Array.from({ length: r }, (_, i) => r - 1 - i);
    const inverse = Array<number>(r);
    perm.forEach((p, i) => (inverse[p] = i));
    return [ctx.g.transpose(dy, inverse)];
  },
  Expand: (node, [dy], ctx) => {
    const x = ins(node)[0] as string;
    return dy && ctx.wants(x) ? [sumTo(ctx.g, dy, ctx.fact(outputsOf(node)[0] as string).shape, ctx.fact(x).shape)] : [];
  },
  Concat: (node, [dy], ctx) => {
    if (!dy) return [];
    const xs = ins(node);
    const axis = normAxis(attrInt(node, 'axis', 0), ctx.fact(xs[0] as string).shape.length);
    const parts = ctx.g.split(dy, xs.map((x) => ctx.fact(x).shape[axis] as number), axis);
    return xs.map((x, i) => (ctx.wants(x) ? parts[i] : undefined));
  },
  Split: (node, dOut, ctx) => {
    const x = ins(node)[0] as string;
    if (!ctx.wants(x) || dOut.every((d) => !d)) return [];
    const axis = normAxis(attrInt(node, 'axis', 0), ctx.fact(x).shape.length);
    const pieces = outputsOf(node).map((o, i) => dOut[i] ?? ctx.g.zeros(ctx.fact(o).shape));
    return [ctx.g.concat(pieces, axis)];
  },
  Slice: (node, [dy], ctx) => {
    const [x, starts, ends, axes, steps] = ins(node) as [string, string, string, string?, string?];
    if (!dy || !ctx.wants(x)) return [];
    const val = (v: string | undefined): number[] | undefined => (v ? ctx.fact(v).values : undefined);
    const shape = ctx.fact(x).shape;
    const { ranges } = sliceRanges(shape, val(starts) as number[], val(ends) as number[], val(axes), val(steps), describeNode(node));
    const pads = Array<number>(2 * shape.length).fill(0);
    for (const r of ranges) {
      pads[r.axis] = r.start;
      pads[r.axis + shape.length] = (shape[r.axis] as number) - r.end;
    }
    return [pads.every((p) => p === 0) ? dy : ctx.g.pad(dy, pads)];
  },
  Pad: (node, [dy], ctx) => {
    const [x, padsName] = ins(node) as [string, string];
    if (!dy || !ctx.wants(x)) return [];
    if ((node.attribute ?? []).some((a) => a.name === 'mode' && a.s && new TextDecoder().decode(a.s) !== 'constant')) {
      throw new MigeInputError('only constant Pad has a gradient rule', describeNode(node));
    }
    const pads = ctx.fact(padsName).values as number[];
    const shape = ctx.fact(x).shape;
    if (pads.some((p) => p < 0)) throw new MigeInputError('negative pads have no gradient rule', describeNode(node));
    const begin = shape.map((_, i) => pads[i] as number);
    return [ctx.g.slice(dy, begin, shape.map((d, i) => (begin[i] as number) + d), shape.map((_, i) => i))];
  },
  Gather: (node, [dy], ctx) => {
    const [data, indices] = ins(node) as [string, string];
    if (!dy || !ctx.wants(data)) return [];
    if (normAxis(attrInt(node, 'axis', 0), ctx.fact(data).shape.length) !== 0) throw new MigeInputError('Gather gradients are supported on axis 0 only', describeNode(node));
    const g = ctx.g;
    return [g.scatterNDAdd(g.zeros(ctx.fact(data).shape), g.unsqueeze(indices, [-1]), dy)];
  },
  ReduceMean: (node, [dy], ctx) => reduceRule(node, dy, ctx, attrInts(node, 'axes'), true),
  ReduceSum: (node, [dy], ctx) => {
    const axesName = ins(node)[1];
    return reduceRule(node, dy, ctx, axesName ? ctx.fact(axesName).values : undefined, false);
  },
  MatMul: (node, [dy], ctx) => {
    if (!dy) return [];
    const [a, b] = ins(node) as [string, string];
    const g = ctx.g;
    const sa = ctx.fact(a).shape, sb = ctx.fact(b).shape, sy = ctx.fact(outputsOf(node)[0] as string).shape;
    const k = sa[sa.length - 1] as number, n = sb[sb.length - 1] as number, m = sa[sa.length - 2] as number;
    let da: string | undefined, db: string | undefined;
    const scores = softmaxScores(node, ctx);
    if (scores !== undefined) {
      // a = softmax(S) read only here (attention's softmax(S)·V): dS = P·(dP − Σ_j dP·P), where
      // Σ_j dP_ij·P_ij = Σ_c dY_ic·Y_ic, as Y = P·V. That row sum runs over Y's width (a head's
      // dim) instead of the [.., L, S] scores: one pass over the widest tensor of attention less.
      const y = outputsOf(node)[0] as string;
      const dp = g.matMul(dy, swapped(ctx, b));
      ctx.contribute(scores, g.mul(a, g.sub(dp, g.reduceSum(g.mul(dy, y), [-1], true))));
    } else if (ctx.wants(a)) {
      if (sb.length === 2 && sa.length > 2) da = g.matMul(dy, swapped(ctx, b));
      else da = sumTo(g, g.matMul(dy, swapped(ctx, b)), [...sy.slice(0, -2), m, k], sa);
    }
    const t = ctx.producer(b);
    const w = t?.opType === 'Transpose' && sb.length === 2 && ctx.consumers(b) === 1 ? (ins(t)[0] as string) : undefined;
    const rows = size(sa) / k;
    if (w !== undefined && ctx.wants(w)) {
      // b = Wᵀ, as a Linear layer's [out, in] weight: dW = dyᵀ·a straight away (rows summed over
      // the batch), instead of (aᵀ·dy)ᵀ, which would transpose a whole weight-sized gradient.
      ctx.contribute(w, g.matMul(keptTranspose(g, dy, rows, n), sa.length > 2 ? g.reshape(a, [rows, k]) : a));
    } else if (ctx.wants(b)) {
      if (sb.length === 2 && sa.length > 2) {
        // A weight shared over the batch: one 2-D product over all rows.
        db = g.matMul(keptTranspose(g, a, rows, k), g.reshape(dy, [rows, n]));
      } else {
        db = sumTo(g, g.matMul(swapped(ctx, a), dy), [...sy.slice(0, -2), k, n], sb);
      }
    }
    return [da, db];
  },
  Gemm: (node, [dy], ctx) => {
    if (!dy) return [];
    const [a, b, c] = ins(node) as [string, string, string?];
    const g = ctx.g;
    const ta = attrInt(node, 'transA', 0), tb = attrInt(node, 'transB', 0);
    const alpha = attrFloat(node, 'alpha', 1), beta = attrFloat(node, 'beta', 1);
    const scale = (v: string, s: number): string => (s === 1 ? v : g.mulScalar(v, s));
    // Y = alpha·op(A)·op(B) + beta·C: d op(A) = dY·op(B)ᵀ, d op(B) = op(A)ᵀ·dY, transposed back where op transposes.
    const t = (v: string): string => g.transpose(v, [1, 0]);
    const dOpA = ctx.wants(a) ? g.matMul(dy, tb ? b : t(b)) : undefined;
    const dOpB = ctx.wants(b) ? g.matMul(ta ? a : t(a), dy) : undefined;
    const da = dOpA && scale(ta ? t(dOpA) : dOpA, alpha);
    const db = dOpB && scale(tb ? t(dOpB) : dOpB, alpha);
    const dc = c && ctx.wants(c) ? sumTo(g, scale(dy, beta), ctx.fact(outputsOf(node)[0] as string).shape, ctx.fact(c).shape) : undefined;
    return [da, db, dc];
  },
  Softmax: (node, [dy], ctx) => {
    const x = ins(node)[0] as string;
    if (!dy || !ctx.wants(x)) return [];
    const g = ctx.g;
    const y = outputsOf(node)[0] as string;
    const axis = attrInt(node, 'axis', -1);
    // dx = y·(dy − Σ dy·y) along the axis.
    return [g.mul(y, g.sub(dy, g.reduceSum(g.mul(dy, y), [axis], true)))];
  },
  LayerNormalization: layerNormRule,
  Conv: convRule,
};

/**
 * The scores S when a MatMul's first operand is softmax(S) over the last axis, read by nothing
 * else, with the same batch dims as the MatMul's output, and S needs a gradient; else undefined.
 */
function softmaxScores(node: Node, ctx: RuleContext): string | undefined {
  const [a, b] = ins(node) as [string, string];
  const sm = ctx.producer(a);
  if (sm?.opType !== 'Softmax' || ctx.consumers(a) !== 1 || !ctx.wants(a)) return undefined;
  const s = ins(sm)[0] as string;
  const sa = ctx.fact(a).shape, sb = ctx.fact(b).shape, sy = ctx.fact(outputsOf(node)[0] as string).shape;
  if (normAxis(attrInt(sm, 'axis', -1), sa.length) !== sa.length - 1 || sa.length < 2) return undefined;
  const batch = (shape: readonly number[]): string => shape.slice(0, -2).join();
  if (sa.length !== sb.length || sy.length !== sa.length || batch(sa) !== batch(sy) || batch(sb) !== batch(sy)) return undefined;
  return ctx.wants(s) ? s : undefined;
}

function reduceRule(node: Node, dy: string | undefined, ctx: RuleContext, axesIn: number[] | undefined, mean: boolean): InputGrads {
  const x = ins(node)[0] as string;
  if (!dy || !ctx.wants(x)) return [];
  const g = ctx.g;
  const shape = ctx.fact(x).shape;
  const axes = new Set((axesIn && axesIn.length > 0 ? axesIn : shape.map((_, i) => i)).map((a) => normAxis(a, shape.length)));
  const kept = shape.map((d, i) => (axes.has(i) ? 1 : d));
  const count = size([...axes].map((a) => shape[a] as number));
  const scaled = mean ? g.mulScalar(dy, 1 / count) : dy;
  return [g.expandTo(g.reshape(scaled, kept), shape)];
}

/**
 * LayerNormalization over the last axis. The forward node is given its optional Mean and
 * InvStdDev outputs, so the backward pass reuses the statistics instead of recomputing them.
 */
function layerNormRule(node: Node, [dy]: (string | undefined)[], ctx: RuleContext): InputGrads {
  if (!dy) return [];
  const g = ctx.g;
  const [x, scale, bias] = ins(node) as [string, string, string?];
  const shape = ctx.fact(x).shape;
  const axis = normAxis(attrInt(node, 'axis', -1), shape.length);
  if (axis !== shape.length - 1) throw new MigeInputError('LayerNormalization gradients are supported over the last axis only', describeNode(node));
  let outs = outputsOf(node);
  if (outs.length < 3) {
    g.addNodeOutputs(node, [g.uniqueName('ln_mean'), g.uniqueName('ln_inv_std')].slice(outs.length - 1));
    outs = outputsOf(node);
  }
  const [y, mean, invStd] = outs as [string, string, string];
  // Without an affine part (a constant scale of ones, no bias) the output is x̂ itself.
  const plain = !bias && (g.constantValue(scale)?.values.every((v) => v === 1) ?? false);
  const xhat = plain ? y : g.mul(g.sub(x, mean), invStd);
  const lead = shape.slice(0, -1).map((_, i) => i);
  const dScale = ctx.wants(scale) ? g.reduceSum(g.mul(dy, xhat), lead, false) : undefined;
  const dBias = bias && ctx.wants(bias) ? g.reduceSum(dy, lead, false) : undefined;
  let dx: string | undefined;
  if (ctx.wants(x)) {
    const dxhat = plain ? dy : g.mul(dy, scale);
    const term = g.add(g.reduceMean(dxhat, [-1], true), g.mul(xhat, g.reduceMean(g.mul(dxhat, xhat), [-1], true)));
    dx = g.mul(invStd, g.sub(dxhat, term));
  }
  return [dx, dScale, dBias];
}

/** Conv (2-D, one group): input gradient by ConvTranspose, weight gradient by a patch matmul or a conv. */
function convRule(node: Node, [dy]: (string | undefined)[], ctx: RuleContext): InputGrads {
  if (!dy) return [];
  const g = ctx.g;
  const [x, w, b] = ins(node) as [string, string, string?];
  if (attrInt(node, 'group', 1) !== 1) throw new MigeInputError('grouped Conv has no gradient rule', describeNode(node));
  const sx = ctx.fact(x).shape, sw = ctx.fact(w).shape, sy = ctx.fact(outputsOf(node)[0] as string).shape;
  const strides = (attrInts(node, 'strides') ?? [1, 1]) as [number, number];
  const pads = (attrInts(node, 'pads') ?? [0, 0, 0, 0]) as [number, number, number, number];
  const dil = (attrInts(node, 'dilations') ?? [1, 1]) as [number, number];
  const [bs, cin, h, wd] = sx as [number, number, number, number];
  const [cout, , kh, kw] = sw as [number, number, number, number];
  const [, , ho, wo] = sy as [number, number, number, number];
  const db = b && ctx.wants(b) ? g.reduceSum(dy, [0, 2, 3], false) : undefined;
  let dx: string | undefined;
  if (ctx.wants(x)) {
    const full = (i: 0 | 1, inSize: number, outSize: number, k: number): number => inSize - (strides[i] * (outSize - 1) + (k - 1) * dil[i] + 1 - pads[i] - (pads[i + 2] as number));
    dx = g.convTranspose(dy, w, { strides, pads, dilations: dil, outputPadding: [full(0, h, ho, kh), full(1, wd, wo, kw)] });
  }
  let dw: string | undefined;
  if (ctx.wants(w)) {
    const patchify = kh === strides[0] && kw === strides[1] && pads.every((p) => p === 0) && dil.every((d) => d === 1) && h === ho * kh && wd === wo * kw;
    if (patchify) {
      // dW[o, c, i, j] = Σ dy[b, o, y, x]·x[b, c, y·kh + i, x·kw + j]: one [O, B·ho·wo]·[B·ho·wo, C·kh·kw] product.
      const patches = g.reshape(g.transpose(g.reshape(x, [bs, cin, ho, kh, wo, kw]), [0, 2, 4, 1, 3, 5]), [bs * ho * wo, cin * kh * kw]);
      const rows = g.reshape(g.transpose(dy, [1, 0, 2, 3]), [cout, bs * ho * wo]);
      dw = g.reshape(g.matMul(rows, patches), sw);
    } else {
      // Batch and channels swapped: x as [C, B, H, W] convolved with dy as a [O, B, ho, wo] filter, strides and dilations exchanged.
      const conv = g.conv(g.transpose(x, [1, 0, 2, 3]), g.transpose(dy, [1, 0, 2, 3]), undefined, { strides: dil, dilations: strides, pads });
      dw = g.transpose(g.slice(conv, [0, 0], [kh, kw], [2, 3]), [1, 0, 2, 3]);
    }
  }
  return [dx, dw, db];
}

/** The rule for an operator, or undefined when it has none. */
export function gradientRule(opType: string): Rule | undefined {
  return Object.hasOwn(RULES, opType) ? RULES[opType] : undefined;
}

/** Operators whose outputs never carry gradients (shapes, comparisons, integer results). */
export const NON_DIFFERENTIABLE = new Set(['Shape', 'Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'And', 'Or', 'Not', 'ConstantOfShape']);
