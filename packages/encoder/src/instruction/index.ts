/** Multimodal instructions: validation, MIGE's prompt normalisation and the sequence layout. */
export { preCaption, DEFAULT_MAX_WORDS } from './pre-caption.js';
export {
  IMAGE_PLACEHOLDER,
  EDIT_TASK_PREFIX,
  COMPOSE_TASK_PREFIX,
  SUBJECT_TASK_PREFIX,
  buildPrompt,
  splitSegments,
  countPlaceholders,
  type PromptTask,
} from './prompts.js';
export {
  validateInstructions,
  validateInstruction,
  findInstructionProblems,
  InstructionBatchError,
  DEFAULT_MAX_IMAGES,
  type Instruction,
  type InstructionOptions,
  type InstructionProblem,
  type PreparedInstruction,
} from './validate.js';
export { planSequence, planTokenIds, spanLength, EOS_TOKEN_ID, type SequencePlan, type SequenceSpan } from './sequence-plan.js';
