import { MigeInputError } from '@mige/core';
import { describe, expect, it } from 'vitest';
import { InstructionBatchError, findInstructionProblems, validateInstruction, validateInstructions } from '../../src/instruction/index.js';

const img = (name: string): { name: string } => ({ name });

describe('validateInstructions', () => {
  it('returns prompts and segments for good instructions', () => {
    const [edit] = validateInstructions([{ text: 'Replace the circle in <imagehere> with <imagehere>.', images: [img('a'), img('b')] }], {
      task: 'edit',
    });
    expect(edit?.prompt).toBe('Follow the instruction to edit the image:\n replace the circle in <imagehere> with <imagehere>');
    expect(edit?.segments).toEqual(['Follow the instruction to edit the image:\n replace the circle in ', ' with ', '']);
    expect(edit?.images.map((i) => i.name)).toEqual(['a', 'b']);
    const [raw] = validateInstructions([{ text: 'a blue star', images: [] }]);
    expect(raw?.prompt).toBe('a blue star');
  });

  it('reports every bad item by index in one MigeInputError', () => {
    const batch = [
      { text: 'fine <imagehere>', images: [img('a')] },
      { text: 'two <imagehere> <imagehere>', images: [img('a')] },
      { text: 'ok', images: [] },
      { text: '<imagehere>'.repeat(5), images: [1, 2, 3, 4, 5].map((i) => img(String(i))) },
      { text: ' ... ', images: [] },
    ];
    let error: unknown;
    try {
      validateInstructions(batch, { task: 'edit' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(MigeInputError);
    expect(error).toBeInstanceOf(InstructionBatchError);
    const batchError = error as InstructionBatchError;
    expect(batchError.where).toBe('batch[1], batch[3], batch[4]');
    expect(batchError.problems.map((p) => p.index)).toEqual([1, 3, 4]);
    expect(batchError.message).toContain('batch[1]: 2 <imagehere> placeholders but 1 images');
    expect(batchError.message).toContain('batch[3]: 5 images, at most 4 allowed');
    expect(batchError.message).toContain('batch[4]: the instruction text is empty after normalisation');
  });

  it('honours maxImages and counts placeholders after the word limit', () => {
    expect(findInstructionProblems([{ text: '<imagehere>'.repeat(5), images: [0, 0, 0, 0, 0] }], { maxImages: 5 })).toEqual([]);
    const long = `${'word '.repeat(50)}<imagehere>`;
    const [problem] = findInstructionProblems([{ text: long, images: [0] }], { task: 'edit' });
    expect(problem?.message).toBe('0 <imagehere> placeholders (the 50-word limit cut some off) but 1 images');
  });

  it('rejects malformed items and batches', () => {
    const bad = [null, { text: 3, images: [] }, { text: 'x' }] as unknown as { text: string; images: number[] }[];
    expect(findInstructionProblems(bad).map((p) => p.message)).toEqual([
      'an instruction must be an object { text, images }',
      '`text` must be a string',
      '`images` must be an array',
    ]);
    expect(() => validateInstructions([])).toThrow(MigeInputError);
    expect(() => validateInstruction({ text: '', images: [] }, {}, 'batch[7]')).toThrow(
      'batch[7]: the instruction text is empty after normalisation',
    );
  });
});
