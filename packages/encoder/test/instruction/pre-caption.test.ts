import { describe, expect, it } from 'vitest';
import { preCaption } from '../../src/instruction/index.js';
import { t5Ids } from '../tokenizer/t5-fixture.js';

describe('preCaption (LAVIS BlipCaptionProcessor.pre_caption)', () => {
  const cases = t5Ids().blip_caption_pre_caption;

  it('has the fixture cases', () => expect(cases).toHaveLength(5));

  // The fixture ran LAVIS with max_words 88.
  it.each(cases.map((c, i) => [i, c.input, c.output] as const))('blip case %i', (_i, input, output) => {
    expect(preCaption(input, 88)).toBe(output);
  });

  it('keeps <imagehere> placeholders and lowercases', () => {
    expect(preCaption('Add a red hat to the dog in <imagehere>.')).toBe('add a red hat to the dog in <imagehere>');
    expect(preCaption('PUT <ImageHere> HERE')).toBe('put <imagehere> here');
  });

  it('collapses only runs of 2+ whitespace (a single tab survives), like Python \\s', () => {
    expect(preCaption('a\tb  c \n d')).toBe('a\tb c d');
    // U+0085 and U+001F are whitespace to Python's re, U+FEFF is not.
    expect(preCaption('a\u0085 b\u001f\u001fc\ufeff\ufeffd')).toBe('a b c\ufeff\ufeffd');
  });

  it('strips trailing newlines, then spaces', () => {
    expect(preCaption(' dog\n')).toBe('dog');
    expect(preCaption('...')).toBe('');
  });

  it('keeps at most maxWords words (default 50)', () => {
    const text = Array.from({ length: 60 }, (_, i) => `w${i}`).join(' ');
    expect(preCaption(text).split(' ')).toHaveLength(50);
    expect(preCaption(text, 3)).toBe('w0 w1 w2');
  });

  it('is idempotent on the fixture prompts it produced', () => {
    for (const c of t5Ids().mige_get_context_emb_segments.filter((s) => s.kind === 'subject')) {
      expect(preCaption(c.prompt)).toBe(c.prompt);
    }
  });
});
