import { onnx } from './proto.js';
import { OnnxGraph, type OnnxElemType } from './graph.js';

const DT = onnx.TensorProto.DataType;
const CAST_TO: Record<OnnxElemType, number> = { float32: DT.FLOAT, float16: DT.FLOAT16, float64: DT.DOUBLE, int64: DT.INT64, int32: DT.INT32, bool: DT.BOOL };

/** Pads as ONNX orders them: [top, left, bottom, right] for 2-D convolutions. */
export interface OnnxConvOptions {
  strides?: readonly [number, number];
  pads?: readonly [number, number, number, number];
  dilations?: readonly [number, number];
}

/**
 * OnnxGraph plus one helper per ONNX operator the emitters use. Every helper takes value names
 * and returns the output's name; shapes, axes and permutations are given as plain numbers and
 * become int64 constants or attributes as opset 17 wants them.
 */
export class OnnxBuilder extends OnnxGraph {
  private one(op: string, inputs: readonly string[], attrs = {}): string {
    return this.node(op, inputs, attrs)[0] as string;
  }

  add(a: string, b: string): string { return this.one('Add', [a, b]); }
  sub(a: string, b: string): string { return this.one('Sub', [a, b]); }
  mul(a: string, b: string): string { return this.one('Mul', [a, b]); }
  div(a: string, b: string): string { return this.one('Div', [a, b]); }
  pow(a: string, b: string): string { return this.one('Pow', [a, b]); }
  matMul(a: string, b: string): string { return this.one('MatMul', [a, b]); }
  sqrt(x: string): string { return this.one('Sqrt', [x]); }
  reciprocal(x: string): string { return this.one('Reciprocal', [x]); }
  erf(x: string): string { return this.one('Erf', [x]); }
  tanh(x: string): string { return this.one('Tanh', [x]); }
  sigmoid(x: string): string { return this.one('Sigmoid', [x]); }
  exp(x: string): string { return this.one('Exp', [x]); }
  cos(x: string): string { return this.one('Cos', [x]); }
  sin(x: string): string { return this.one('Sin', [x]); }

  neg(x: string): string { return this.one('Neg', [x]); }
  relu(x: string): string { return this.one('Relu', [x]); }
  log(x: string): string { return this.one('Log', [x]); }
  max(a: string, b: string): string { return this.one('Max', [a, b]); }
  min(a: string, b: string): string { return this.one('Min', [a, b]); }
  where(condition: string, a: string, b: string): string { return this.one('Where', [condition, a, b]); }
  less(a: string, b: string): string { return this.one('Less', [a, b]); }
  greater(a: string, b: string): string { return this.one('Greater', [a, b]); }
  greaterOrEqual(a: string, b: string): string { return this.one('GreaterOrEqual', [a, b]); }
  /** Elementwise sum of any number of inputs (with broadcasting). */
  sum(xs: readonly string[]): string { return xs.length === 1 ? (xs[0] as string) : this.one('Sum', xs); }
  identity(x: string): string { return this.one('Identity', [x]); }

  /** x + scalar constant. */
  addScalar(x: string, v: number): string { return this.add(x, this.scalar(v)); }
  /** x · scalar constant. */
  mulScalar(x: string, v: number): string { return this.mul(x, this.scalar(v)); }

  /** Gemm: alpha·A'·B' + beta·C (2-D only). */
  gemm(a: string, b: string, c?: string, options: { transA?: number; transB?: number } = {}): string {
    return this.one('Gemm', c ? [a, b, c] : [a, b], { transA: options.transA ?? 0, transB: options.transB ?? 0 });
  }

  /** Reshape to `shape` (0 copies the input's dim, −1 is inferred), so a dynamic batch passes through. */
  reshape(x: string, shape: readonly number[]): string {
    return this.one('Reshape', [x, this.constantI64(shape)]);
  }

  /** Reshape to a shape held in a value (e.g. the output of `shape`). */
  reshapeTo(x: string, shape: string): string {
    return this.one('Reshape', [x, shape]);
  }

  /** x [..., width] as rows [M, width] (Gemm takes 2-D inputs only; a reshape is a view). */
  rows(x: string, width: number): string {
    return this.reshape(x, [-1, width]);
  }

  /** Rows [M, width] back to `like`'s leading axes: [...like's shape without its last axis, width]. */
  unrows(x: string, like: string, width: number): string {
    return this.reshapeTo(x, this.concat([this.shape(like, 0, -1), this.constantI64([width])], 0));
  }

  transpose(x: string, perm: readonly number[]): string { return this.one('Transpose', [x], { perm }); }
  concat(xs: readonly string[], axis: number): string { return this.one('Concat', xs, { axis }); }
  softmax(x: string, axis = -1): string { return this.one('Softmax', [x], { axis }); }

  /** Mean over `axes` (attribute form, opset 17). */
  reduceMean(x: string, axes: readonly number[], keepdims = true): string {
    return this.one('ReduceMean', [x], { axes, keepdims: keepdims ? 1 : 0 });
  }

  /** Sum over `axes` (opset 13+: axes as an input); all axes when `axes` is empty. */
  reduceSum(x: string, axes: readonly number[], keepdims = true): string {
    return this.one('ReduceSum', axes.length > 0 ? [x, this.constantI64(axes)] : [x], { keepdims: keepdims ? 1 : 0 });
  }

  /** x broadcast to a constant shape. */
  expandTo(x: string, shape: readonly number[]): string {
    return this.expand(x, this.constantI64(shape));
  }

  /** A float32 tensor of zeros of a constant shape (a broadcast scalar: no initializer of that size). */
  zeros(shape: readonly number[]): string {
    return shape.length === 0 ? this.scalar(0) : this.expandTo(this.scalar(0), shape);
  }

  /** ScatterND with reduction 'add' (opset 16+): data with updates added at indices [..., k]. */
  scatterNDAdd(data: string, indices: string, updates: string): string {
    return this.one('ScatterND', [data, indices, updates], { reduction: 'add' });
  }

  /** Slice with constant starts/ends/axes/steps. */
  slice(x: string, starts: readonly number[], ends: readonly number[], axes: readonly number[], steps?: readonly number[]): string {
    const ins = [x, this.constantI64(starts), this.constantI64(ends), this.constantI64(axes)];
    if (steps) ins.push(this.constantI64(steps));
    return this.one('Slice', ins);
  }

  /** Slice whose bounds are values (1-D int64). */
  sliceDynamic(x: string, starts: string, ends: string, axes: readonly number[]): string {
    return this.one('Slice', [x, starts, ends, this.constantI64(axes)]);
  }

  /** Zero padding; `pads` as ONNX orders them: all begins, then all ends. */
  pad(x: string, pads: readonly number[]): string {
    return this.one('Pad', [x, this.constantI64(pads)], { mode: 'constant' });
  }

  gather(data: string, indices: string, axis = 0): string { return this.one('Gather', [data, indices], { axis }); }

  /** Split along `axis` into pieces of the given sizes. */
  split(x: string, sizes: readonly number[], axis: number): string[] {
    return this.node('Split', [x, this.constantI64(sizes)], { axis }, sizes.length);
  }

  unsqueeze(x: string, axes: readonly number[]): string { return this.one('Unsqueeze', [x, this.constantI64(axes)]); }
  squeeze(x: string, axes: readonly number[]): string { return this.one('Squeeze', [x, this.constantI64(axes)]); }
  expand(x: string, shape: string): string { return this.one('Expand', [x, shape]); }

  /** The int64 shape of x, optionally only dims [start, end). */
  shape(x: string, start?: number, end?: number): string {
    const attrs: Record<string, number> = {};
    if (start !== undefined) attrs.start = start;
    if (end !== undefined) attrs.end = end;
    return this.one('Shape', [x], attrs);
  }

  cast(x: string, to: OnnxElemType): string { return this.one('Cast', [x], { to: CAST_TO[to] }); }

  /** LayerNormalization (opset 17) over the last axis; `scale` is required by the operator. */
  layerNormalization(x: string, scale: string, bias: string | undefined, epsilon: number): string {
    return this.one('LayerNormalization', bias ? [x, scale, bias] : [x, scale], { axis: -1, epsilon: { f: epsilon } });
  }

  /** 2-D convolution on NCHW with weight [out, in, kh, kw]. */
  conv(x: string, weight: string, bias: string | undefined, options: OnnxConvOptions = {}): string {
    const attrs = {
      strides: options.strides ?? [1, 1],
      pads: options.pads ?? [0, 0, 0, 0],
      dilations: options.dilations ?? [1, 1],
    };
    return this.one('Conv', bias ? [x, weight, bias] : [x, weight], attrs);
  }

  /** ConvTranspose on NCHW with weight [in, out, kh, kw] (conv's input gradient). */
  convTranspose(x: string, weight: string, options: OnnxConvOptions & { outputPadding?: readonly [number, number] } = {}): string {
    return this.one('ConvTranspose', [x, weight], {
      strides: options.strides ?? [1, 1],
      pads: options.pads ?? [0, 0, 0, 0],
      dilations: options.dilations ?? [1, 1],
      output_padding: options.outputPadding ?? [0, 0],
    });
  }

  /**
   * A value that carries x's values but no gradient (torch's .detach()): the autodiff stops at
   * it. In the serialized graph it is an Identity.
   */
  stopGradient(x: string): string {
    const y = this.identity(x);
    this.markNoGradient(y);
    return y;
  }

  /** Nearest-neighbour upsampling by integer factors with floor(i / s) source indices (torch's F.interpolate nearest). */
  resizeNearest(x: string, scales: readonly number[]): string {
    const s = this.constantF32('resize_scales', scales, [scales.length]);
    return this.one('Resize', [x, '', s], { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' });
  }
}
