/**
 * Scalar float32 arithmetic for the parts of the reference that compute on float32 tensors of
 * one element (time grids, schedule coefficients). JS numbers are float64; rounding the result
 * of every operation with `Math.fround` reproduces float32 arithmetic to within one ulp for the
 * transcendental functions and exactly for + − × ÷ √.
 */
export const f32 = Math.fround;

/**
 * `torch.linspace(start, end, steps)` in float32, as torch's CPU kernel computes it: the step is
 * `(end − start)/(steps − 1)` in float32 and each value is computed from the nearer end
 * (`start + i·step` for the first half, `end − (steps − 1 − i)·step` for the rest). Torch's
 * vectorised path can differ from this by one ulp in a few entries (see the fixture README).
 */
export function torchLinspaceF32(start: number, end: number, steps: number): Float32Array {
  const out = new Float32Array(steps);
  if (steps === 0) return out;
  const s = f32(start);
  const e = f32(end);
  if (steps === 1) {
    out[0] = s;
    return out;
  }
  const step = f32(f32(e - s) / (steps - 1));
  const halfway = Math.floor(steps / 2);
  for (let i = 0; i < steps; i++) {
    out[i] = i < halfway ? f32(s + f32(step * i)) : f32(e - f32(step * (steps - 1 - i)));
  }
  return out;
}

/** log(e^a + e^b) without overflow. */
export function logAddExp(a: number, b: number): number {
  const m = Math.max(a, b);
  if (m === -Infinity) return -Infinity;
  return m + Math.log1p(Math.exp(-Math.abs(a - b)));
}
