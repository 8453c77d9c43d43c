import { checkShapes, MigeInputError, type EncoderInput, type InstructionTask } from '@mige/core';
import { findInstructionProblems, InstructionBatchError, validateInstruction, type InstructionProblem, type PreparedInstruction } from '../instruction/validate.js';

export interface PreparedItem extends PreparedInstruction<number> {
  input: EncoderInput;
}

/**
 * Checks every item (tensor shapes, then the text against its image count) and builds the
 * prompts. All problems of the batch are reported in one InstructionBatchError.
 */
export function prepareBatch(
  batch: readonly EncoderInput[],
  options: { task: InstructionTask; imageSize: number; maxImages: number },
): PreparedItem[] {
  if (!Array.isArray(batch) || batch.length === 0) throw new MigeInputError('expected a non-empty array of instructions', 'batch');
  const problems: InstructionProblem[] = [];
  const prepared: PreparedItem[] = [];
  batch.forEach((input, index) => {
    const shapeProblem = checkItemShapes(input, options.imageSize);
    if (shapeProblem) return void problems.push({ index, message: shapeProblem });
    const n = input.images.shape[0];
    // The instruction module counts images; the tensors themselves stay here.
    const instruction = { text: input.text, images: Array.from({ length: n }, (_, i) => i) };
    const opts = { task: input.task ?? options.task, maxImages: options.maxImages };
    const found = findInstructionProblems([instruction], opts);
    if (found.length > 0) return void problems.push(...found.map((p) => ({ index, message: p.message })));
    prepared.push({ ...validateInstruction(instruction, opts, `batch[${index}]`), input });
  });
  if (problems.length > 0) throw new InstructionBatchError(problems);
  return prepared;
}

function checkItemShapes(input: EncoderInput, imageSize: number): string | undefined {
  if (typeof input !== 'object' || input === null) return 'an instruction must be an object { text, images, latents }';
  try {
    checkShapes('item', { images: [input.images, ['n', 3, imageSize, imageSize]], latents: [input.latents, ['n', 4, 'h', 'w']] });
  } catch (e) {
    if (e instanceof MigeInputError) return e.message;
    throw e;
  }
  return undefined;
}
