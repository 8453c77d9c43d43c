/**
 * UnsortedSegmentSum for the wasm backend (missing in tfjs 4.22; it is the gradient of gather, so
 * embeddings could not train on wasm).
 *
 * Same function as the cpu kernel: out[s] = sum over i of [segmentIds[i] == s] * x[i], ids outside
 * [0, numSegments) dropped, float32 output whatever x's dtype, accumulated in float64 in ascending i.
 * Unlike cpu (which multiplies every row by a 0/1 mask) rows of other segments are skipped rather
 * than added as 0 * x, which only differs when x holds Inf or NaN. Segment ids of rank r > 1 (which
 * the cpu kernel fails to broadcast) follow TensorFlow: output [numSegments, ...x.shape.slice(r)].
 */
import { util } from '@tensorflow/tfjs-core';
import type { KernelFunc, TensorInfo, UnsortedSegmentSumAttrs } from '@tensorflow/tfjs-core';
import { asWasm, f32Heap, off4 } from './util.js';

type KernelArgs = Parameters<KernelFunc>[0];

function unsortedSegmentSum(args: KernelArgs): TensorInfo {
  const backend = asWasm(args.backend);
  const { x, segmentIds } = args.inputs;
  if (!x || !segmentIds) throw new Error('UnsortedSegmentSum needs inputs x and segmentIds');
  const { numSegments } = args.attrs as unknown as UnsortedSegmentSumAttrs;
  const idsRank = segmentIds.shape.length;
  const n0 = util.sizeFromShape(segmentIds.shape);
  const rowLen = util.sizeFromShape(x.shape.slice(idsRank));
  const out = backend.makeOutput([numSegments, ...x.shape.slice(idsRank)], 'float32');
  // Typed views only after the allocation above.
  const xs = backend.typedArrayFromHeap(x);
  const ids = backend.typedArrayFromHeap(segmentIds);
  const f = f32Heap(backend);
  const outOff = off4(backend, out);

  // Stable counting sort of rows by segment, then one float64 row sum per segment: memory stays
  // O(row + rows + segments) even for large vocabularies.
  const start = new Int32Array(numSegments + 1);
  for (let i = 0; i < n0; i++) {
    const s = ids[i]!;
    if (s >= 0 && s < numSegments) start[s + 1]!++;
  }
  for (let s = 0; s < numSegments; s++) start[s + 1] = start[s + 1]! + start[s]!;
  const order = new Int32Array(start[numSegments]!);
  const fillPos = start.slice(0, numSegments);
  for (let i = 0; i < n0; i++) {
    const s = ids[i]!;
    if (s >= 0 && s < numSegments) order[fillPos[s]!++] = i;
  }
  const row = new Float64Array(rowLen);
  for (let s = 0; s < numSegments; s++) {
    const dst = outOff + s * rowLen;
    const a = start[s]!;
    const e = start[s + 1]!;
    if (a === e) {
      f.fill(0, dst, dst + rowLen);
      continue;
    }
    row.fill(0);
    for (let k = a; k < e; k++) {
      const src = order[k]! * rowLen;
      for (let j = 0; j < rowLen; j++) row[j] = row[j]! + xs[src + j]!;
    }
    f.set(row, dst);
  }
  return out;
}

export const unsortedSegmentSumFunc = unsortedSegmentSum as KernelFunc;
