/**
 * The layout of one interleaved text/image sequence, as MIGE's `get_context_emb` builds it:
 * seg0, img0, seg1, img1, …, seg_last + EOS, then pad or truncate to `maxLength`.
 * Plain data, so the tensor code that embeds it stays free of layout rules.
 */
import { MigeInputError } from '@mige/core';

/** T5's `</s>`, appended to the last text segment only. */
export const EOS_TOKEN_ID = 1;

export type SequenceSpan =
  /** Token ids to embed with `shared`. */
  | { kind: 'text'; ids: number[] }
  /** The first `rows` rows of image slot `slot` (all `imageTokenCount` unless truncated). */
  | { kind: 'image'; slot: number; rows: number }
  /** `count` positions filled with the embedding of token id 0 (`<pad>`). */
  | { kind: 'pad'; count: number };

export interface SequencePlan {
  /** In order; empty text segments are left out. Lengths add up to `mask.length`. */
  spans: SequenceSpan[];
  /** 1 for content, 0 for padding; length `maxLength`. */
  mask: Int32Array;
  /** Length before padding/truncation (L in the reference). */
  contentLength: number;
  /** True when L > maxLength and the tail was cut off (a real loss of instruction content). */
  truncated: boolean;
}

function checkCount(value: number, name: string, min: number): void {
  if (!Number.isInteger(value) || value < min) {
    throw new MigeInputError(`must be an integer >= ${min}, got ${String(value)}`, name);
  }
}

/**
 * Lays out `segmentIds` (one id list per `<imagehere>`-separated segment, without EOS)
 * around `segmentIds.length - 1` image slots of `imageTokenCount` rows each.
 */
export function planSequence(segmentIds: readonly (readonly number[])[], imageTokenCount: number, maxLength: number): SequencePlan {
  checkCount(imageTokenCount, 'imageTokenCount', 1);
  checkCount(maxLength, 'maxLength', 1);
  if (!Array.isArray(segmentIds) || segmentIds.length === 0) {
    throw new MigeInputError('needs at least one text segment', 'segmentIds');
  }
  const full: SequenceSpan[] = [];
  segmentIds.forEach((ids, i) => {
    if (!Array.isArray(ids) || ids.some((id) => !Number.isInteger(id) || id < 0)) {
      throw new MigeInputError('must be an array of non-negative integer token ids', `segmentIds[${i}]`);
    }
    const isLast = i === segmentIds.length - 1;
    const withEos = isLast ? [...ids, EOS_TOKEN_ID] : [...ids];
    if (withEos.length > 0) full.push({ kind: 'text', ids: withEos });
    if (!isLast) full.push({ kind: 'image', slot: i, rows: imageTokenCount });
  });
  const contentLength = full.reduce((n, span) => n + spanLength(span), 0);
  const mask = new Int32Array(maxLength);
  if (contentLength < maxLength) {
    mask.fill(1, 0, contentLength);
    return { spans: [...full, { kind: 'pad', count: maxLength - contentLength }], mask, contentLength, truncated: false };
  }
  mask.fill(1);
  return { spans: truncateSpans(full, maxLength), mask, contentLength, truncated: contentLength > maxLength };
}

export function spanLength(span: SequenceSpan): number {
  switch (span.kind) {
    case 'text':
      return span.ids.length;
    case 'image':
      return span.rows;
    case 'pad':
      return span.count;
  }
}

/** Keeps the first `maxLength` positions, cutting the span that crosses the limit. */
function truncateSpans(spans: readonly SequenceSpan[], maxLength: number): SequenceSpan[] {
  const kept: SequenceSpan[] = [];
  let left = maxLength;
  for (const span of spans) {
    if (left === 0) break;
    const length = spanLength(span);
    if (length <= left) kept.push(span);
    else if (span.kind === 'text') kept.push({ kind: 'text', ids: span.ids.slice(0, left) });
    else if (span.kind === 'image') kept.push({ kind: 'image', slot: span.slot, rows: left });
    left -= Math.min(length, left);
  }
  return kept;
}

/** The token id (or -1 for an image row) of every position; handy for tests and debugging. */
export function planTokenIds(plan: SequencePlan): number[] {
  return plan.spans.flatMap((span) => {
    switch (span.kind) {
      case 'text':
        return span.ids;
      case 'image':
        return new Array<number>(span.rows).fill(-1);
      case 'pad':
        return new Array<number>(span.count).fill(0);
    }
  });
}
