import { MigeInputError } from '@mige/core';
import { describe, expect, it } from 'vitest';
import { planSequence, planTokenIds, spanLength } from '../../src/instruction/index.js';
import { e2eConfig, t5Ids } from '../tokenizer/t5-fixture.js';

/** The fixtures store ids with EOS on the last segment; planSequence takes them without. */
function withoutEos(segments: number[][]): number[][] {
  return segments.map((ids, i) => (i === segments.length - 1 ? ids.slice(0, -1) : ids));
}

describe('planSequence against mige_encoder_e2e (max_len 32, 8 image tokens)', () => {
  const config = e2eConfig();

  it('has the three branches', () => {
    expect(config.max_len).toBe(32);
    expect(config.segments.map((s) => [s.mixed_length, s.branch])).toEqual([
      [27, 'padded'],
      [12, 'padded'],
      [62, 'truncated'],
    ]);
  });

  it.each(config.segments.map((s, i) => [i, s] as const))('prompt %i', (i, s) => {
    const plan = planSequence(withoutEos(s.segment_ids_with_eos), 8, config.max_len);
    expect(plan.contentLength).toBe(s.mixed_length);
    expect(plan.truncated).toBe(s.branch === 'truncated');
    expect(plan.mask).toHaveLength(32);
    const ones = Math.min(s.mixed_length, 32);
    expect(Array.from(plan.mask)).toEqual([...new Array<number>(ones).fill(1), ...new Array<number>(32 - ones).fill(0)]);
    expect(plan.spans.reduce((n, span) => n + spanLength(span), 0)).toBe(32);
    expect(plan.spans.filter((span) => span.kind === 'image').length).toBe(config.images_per_prompt[i]);
  });

  it('lays out prompt 0 as seg0, img0, seg1, img1, seg2 + EOS, pad', () => {
    const s = config.segments[0];
    const plan = planSequence(withoutEos(s?.segment_ids_with_eos ?? []), 8, 32);
    expect(plan.spans).toEqual([
      { kind: 'text', ids: [260, 406, 277] },
      { kind: 'image', slot: 0, rows: 8 },
      { kind: 'text', ids: [266, 260, 407, 277] },
      { kind: 'image', slot: 1, rows: 8 },
      { kind: 'text', ids: [273, 259, 490, 1] },
      { kind: 'pad', count: 5 },
    ]);
  });

  it('skips the empty first segment of prompt 1', () => {
    const plan = planSequence([[], [293, 259, 494]], 8, 32);
    expect(plan.spans).toEqual([
      { kind: 'image', slot: 0, rows: 8 },
      { kind: 'text', ids: [293, 259, 494, 1] },
      { kind: 'pad', count: 20 },
    ]);
  });

  it('truncates prompt 2 to 32 positions, cutting its text (and the EOS) off', () => {
    const s = config.segments[2];
    const segments = s?.segment_ids_with_eos ?? [];
    const plan = planSequence(withoutEos(segments), 8, 32);
    expect(plan.spans).toEqual([
      { kind: 'text', ids: [260, 406, 277] },
      { kind: 'image', slot: 0, rows: 8 },
      { kind: 'text', ids: segments[1]?.slice(0, 21) },
    ]);
    expect(planTokenIds(plan)).not.toContain(1);
  });
});

describe('planSequence edge cases', () => {
  it('cuts an image slot that crosses the limit and flags only real truncation', () => {
    const cut = planSequence([[5, 6], [7]], 8, 4);
    expect(cut.spans).toEqual([{ kind: 'text', ids: [5, 6] }, { kind: 'image', slot: 0, rows: 2 }]);
    expect(cut.truncated).toBe(true);
    const exact = planSequence([[5, 6]], 8, 3);
    expect(exact.truncated).toBe(false);
    expect(planTokenIds(exact)).toEqual([5, 6, 1]);
    expect(Array.from(exact.mask)).toEqual([1, 1, 1]);
  });

  it('appends EOS to the last segment even when it is empty (fixture segment_ids_with_eos)', () => {
    for (const c of t5Ids().mige_get_context_emb_segments) {
      const plan = planSequence(c.segment_ids, 8, 512);
      const texts = plan.spans.filter((span) => span.kind === 'text');
      expect(texts.at(-1)).toEqual({ kind: 'text', ids: c.segment_ids_with_eos.at(-1) });
    }
  });

  it('rejects bad arguments', () => {
    expect(() => planSequence([], 8, 32)).toThrow(MigeInputError);
    expect(() => planSequence([[1]], 0, 32)).toThrow('imageTokenCount: must be an integer >= 1, got 0');
    expect(() => planSequence([[1]], 8, 2.5)).toThrow('maxLength');
    expect(() => planSequence([[1], [-1]], 8, 32)).toThrow('segmentIds[1]');
  });
});
