/**
 * Copies the elements of a strided view into a contiguous row-major buffer, byte-wise so any
 * dtype works. `src` holds the storage from element `offset` on; strides are in elements.
 */
export function gatherStrided(
  src: Uint8Array,
  itemSize: number,
  shape: number[],
  stride: number[],
  offset: number,
): Uint8Array {
  const numel = shape.reduce((a, b) => a * b, 1);
  const out = new Uint8Array(numel * itemSize);
  if (numel === 0) return out;
  const rank = shape.length;
  const inner = rank ? (shape[rank - 1] as number) : 1;
  const innerStride = rank ? (stride[rank - 1] as number) : 0;
  const rowBytes = inner * itemSize;
  const index = new Array<number>(Math.max(rank - 1, 0)).fill(0);
  let base = offset; // storage element of the current row's first element
  for (let dst = 0; dst < out.length; dst += rowBytes) {
    if (innerStride === 1) {
      out.set(src.subarray(base * itemSize, base * itemSize + rowBytes), dst);
    } else {
      for (let j = 0, o = dst; j < inner; j++) {
        const from = (base + j * innerStride) * itemSize;
        for (let k = 0; k < itemSize; k++) out[o++] = src[from + k] as number;
      }
    }
    // Odometer over the outer dims: step the last one, carrying into earlier ones.
    for (let d = rank - 2; d >= 0; d--) {
      const size = shape[d] as number;
      const step = stride[d] as number;
      if ((index[d] as number) + 1 < size) {
        index[d] = (index[d] as number) + 1;
        base += step;
        break;
      }
      base -= (index[d] as number) * step;
      index[d] = 0;
    }
  }
  return out;
}

/** True when `stride` is the row-major layout of `shape` (dims of size 1 may have any stride). */
export function isContiguous(shape: number[], stride: number[]): boolean {
  let expected = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    const size = shape[d] as number;
    if (size !== 1 && stride[d] !== expected) return false;
    expected *= size;
  }
  return true;
}
