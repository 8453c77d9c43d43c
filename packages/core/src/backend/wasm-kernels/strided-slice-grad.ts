/**
 * Gradient of StridedSlice, which tfjs 4.22 lacks on every backend.
 *
 * The gradient scatters dy into zeros of x's shape at positions begin + k * stride. It is built from
 * differentiable, backend-agnostic ops: per axis, negative strides become a reverse, strides > 1 an
 * interleave with zeros (pad a new unit axis, merge it back), and the offset a pad.
 */
import { getGradient, pad, registerGradient, reshape, reverse, slice, slice_util, zeros } from '@tensorflow/tfjs-core';
import type { GradConfig, NamedAttrMap, StridedSliceAttrs, Tensor } from '@tensorflow/tfjs-core';

export function stridedSliceGradFunc(dy: Tensor, xShape: readonly number[], attrs: StridedSliceAttrs): Tensor {
  const info = slice_util.sliceInfo(
    xShape.slice(),
    attrs.begin,
    attrs.end,
    attrs.strides,
    attrs.beginMask,
    attrs.endMask,
    attrs.ellipsisMask,
    attrs.newAxisMask,
    attrs.shrinkAxisMask,
  );
  const rank = xShape.length;
  // Elements taken along each input axis (new axes are size 1 in dy, shrunk axes count 1 here).
  const counts = info.begin.map((b, i) => {
    const s = info.strides[i]!;
    const n = Math.ceil((info.end[i]! - b) / s);
    return Math.max(0, n);
  });
  if (counts.some((n) => n === 0)) return zeros(xShape.slice(), dy.dtype);
  let g: Tensor = reshape(dy, counts);
  for (let d = 0; d < rank; d++) {
    const n = counts[d]!;
    const s = info.strides[d]!;
    const step = Math.abs(s);
    // Lowest input index touched on this axis.
    const lo = s > 0 ? info.begin[d]! : info.begin[d]! + (n - 1) * s;
    if (s < 0) g = reverse(g, d);
    if (step > 1 && n > 1) {
      const pre = g.shape.slice(0, d);
      const post = g.shape.slice(d + 1);
      const withUnit = reshape(g, [...pre, n, 1, ...post]);
      const padding: Array<[number, number]> = withUnit.shape.map(() => [0, 0]);
      padding[d + 1] = [0, step - 1];
      const spread = reshape(pad(withUnit, padding), [...pre, n * step, ...post]);
      // Keep n elements spaced by `step`, without the trailing zeros after the last one.
      const begin = g.shape.map(() => 0);
      const size = spread.shape.slice();
      size[d] = (n - 1) * step + 1;
      g = slice(spread, begin, size);
    }
    const span = g.shape[d]!;
    const after = xShape[d]! - lo - span;
    if (lo !== 0 || after !== 0) {
      const padding: Array<[number, number]> = g.shape.map(() => [0, 0]);
      padding[d] = [lo, after];
      g = pad(g, padding);
    }
  }
  return g;
}

export const stridedSliceGradConfig: GradConfig = {
  kernelName: 'StridedSlice',
  inputsToSave: ['x'],
  gradFunc: (dy: Tensor | Tensor[], saved: Tensor[], attrs: NamedAttrMap) => {
    const [x] = saved;
    if (!x || Array.isArray(dy)) throw new Error('StridedSlice gradient: unexpected arguments');
    const a = attrs as unknown as StridedSliceAttrs;
    return { x: () => stridedSliceGradFunc(dy, x.shape, a) };
  },
};

/**
 * Registers the StridedSlice gradient (for all backends: gradients are not per backend) unless one is
 * already registered, e.g. by a newer tfjs.
 */
export function registerStridedSliceGradient(): void {
  if (!getGradient('StridedSlice')) registerGradient(stridedSliceGradConfig);
}
