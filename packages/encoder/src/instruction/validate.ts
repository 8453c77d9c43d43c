/** Checks a batch of multimodal instructions before any model work and builds their prompts. */
import { MigeInputError } from '@mige/core';
import { DEFAULT_MAX_WORDS, preCaption } from './pre-caption.js';
import { buildPrompt, countPlaceholders, splitSegments, type PromptTask } from './prompts.js';

/** Text with one `<imagehere>` per image, in order. */
export interface Instruction<T> {
  text: string;
  images: T[];
}

export interface InstructionOptions {
  /** MIGE has 4 image slots per sample (default 4). */
  maxImages?: number;
  /** pre_caption word limit (default 50). */
  maxWords?: number;
  /** How the prompt is built from the text (default `raw`: no prefix, no pre_caption). */
  task?: PromptTask;
}

/** An instruction that passed validation, with the prompt the tokenizer will see. */
export interface PreparedInstruction<T> {
  prompt: string;
  /** `prompt.split('<imagehere>')`; `segments.length === images.length + 1`. */
  segments: string[];
  images: T[];
}

export interface InstructionProblem {
  index: number;
  message: string;
}

/** All problems of a batch at once, so a caller can fix every item in one go. */
export class InstructionBatchError extends MigeInputError {
  constructor(readonly problems: InstructionProblem[]) {
    super(
      problems.map((p) => `batch[${p.index}]: ${p.message}`).join('; '),
      problems.map((p) => `batch[${p.index}]`).join(', '),
    );
  }
}

export const DEFAULT_MAX_IMAGES = 4;

/**
 * The prompt of one instruction, or why it cannot be used. Placeholders are counted in the
 * final prompt, because that is what gets split: pre_caption lowercases `<ImageHere>` into
 * a placeholder and its word limit can cut placeholders off.
 */
function prepare<T>(item: unknown, options: InstructionOptions): PreparedInstruction<T> | string {
  const maxImages = options.maxImages ?? DEFAULT_MAX_IMAGES;
  const maxWords = options.maxWords ?? DEFAULT_MAX_WORDS;
  const task = options.task ?? 'raw';
  if (typeof item !== 'object' || item === null) return 'an instruction must be an object { text, images }';
  const { text, images } = item as { text?: unknown; images?: unknown };
  if (typeof text !== 'string') return '`text` must be a string';
  if (!Array.isArray(images)) return '`images` must be an array';
  if (images.length > maxImages) return `${images.length} images, at most ${maxImages} allowed`;
  // The user's part alone: a task prefix must not make an empty instruction look valid.
  const normalized = task === 'raw' ? text.trim() : preCaption(text, maxWords);
  if (normalized === '') return 'the instruction text is empty after normalisation';
  const prompt = buildPrompt(text, task, maxWords);
  const placeholders = countPlaceholders(prompt);
  if (placeholders !== images.length) {
    const cut = countPlaceholders(text.toLowerCase()) > placeholders ? ` (the ${maxWords}-word limit cut some off)` : '';
    return `${placeholders} <imagehere> placeholders${cut} but ${images.length} images`;
  }
  return { prompt, segments: splitSegments(prompt), images: images as T[] };
}

/** Every problem of `batch`, by index; empty when all items are usable. */
export function findInstructionProblems(batch: readonly unknown[], options: InstructionOptions = {}): InstructionProblem[] {
  const problems: InstructionProblem[] = [];
  batch.forEach((item, index) => {
    const result = prepare(item, options);
    if (typeof result === 'string') problems.push({ index, message: result });
  });
  return problems;
}

/**
 * Validates a batch and returns the prepared prompts. Throws one InstructionBatchError
 * (a MigeInputError, `where: 'batch[1], batch[3]'`) naming every bad item.
 */
export function validateInstructions<T>(
  batch: readonly Instruction<T>[],
  options: InstructionOptions = {},
): PreparedInstruction<T>[] {
  if (!Array.isArray(batch)) throw new MigeInputError('instructions must be an array', 'batch');
  if (batch.length === 0) throw new MigeInputError('the batch holds no instructions', 'batch');
  const prepared: PreparedInstruction<T>[] = [];
  const problems: InstructionProblem[] = [];
  batch.forEach((item, index) => {
    const result = prepare<T>(item, options);
    if (typeof result === 'string') problems.push({ index, message: result });
    else prepared.push(result);
  });
  if (problems.length > 0) throw new InstructionBatchError(problems);
  return prepared;
}

/** One instruction; `where` names it in the error (default `instruction`). */
export function validateInstruction<T>(
  instruction: Instruction<T>,
  options: InstructionOptions = {},
  where = 'instruction',
): PreparedInstruction<T> {
  const result = prepare<T>(instruction, options);
  if (typeof result === 'string') throw new MigeInputError(result, where);
  return result;
}
