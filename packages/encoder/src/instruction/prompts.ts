/** How MIGE's inference scripts turn a user instruction into the prompt the T5 encoder sees. */
import { preCaption, DEFAULT_MAX_WORDS } from './pre-caption.js';

/** The literal marker for an image inside an instruction. */
export const IMAGE_PLACEHOLDER = '<imagehere>';

/** Prepended (after pre_caption of the text) to instruction-based editing prompts. */
export const EDIT_TASK_PREFIX = 'Follow the instruction to edit the image:\n ';

/**
 * Prepended (before pre_caption, so it is lowercased and loses its `:`) to subject-driven
 * generation prompts.
 */
export const SUBJECT_TASK_PREFIX =
  "Follow the text instruction to generate an image with the given objects' images, preserving the subject's identity:\n ";

/**
 * Prepended (before pre_caption, so it becomes `subject-driven editing ` ) to instruction-based
 * subject-driven editing (add / replace) prompts, as MIGEBench_infer.py does.
 */
export const COMPOSE_TASK_PREFIX = 'Subject-driven editing:\n ';

/**
 * `edit`: EDIT_TASK_PREFIX + preCaption(text); `subject`: preCaption(SUBJECT_TASK_PREFIX + text);
 * `compose`: preCaption(COMPOSE_TASK_PREFIX + text); `raw`: text as is.
 */
export type PromptTask = 'edit' | 'subject' | 'compose' | 'raw';

/** The final prompt for `text` under `task`, exactly as MIGE builds it. */
export function buildPrompt(text: string, task: PromptTask, maxWords: number = DEFAULT_MAX_WORDS): string {
  switch (task) {
    case 'edit':
      return EDIT_TASK_PREFIX + preCaption(text, maxWords);
    case 'subject':
      return preCaption(SUBJECT_TASK_PREFIX + text, maxWords);
    case 'compose':
      return preCaption(COMPOSE_TASK_PREFIX + text, maxWords);
    case 'raw':
      return text;
  }
}

/** `prompt.split('<imagehere>')`: n placeholders give n + 1 segments, empty ones included. */
export function splitSegments(prompt: string): string[] {
  return prompt.split(IMAGE_PLACEHOLDER);
}

/** How many `<imagehere>` placeholders `text` holds. */
export function countPlaceholders(text: string): number {
  return splitSegments(text).length - 1;
}
