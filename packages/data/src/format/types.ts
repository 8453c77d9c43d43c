/** The placeholder the reference puts in an instruction where each entity image goes. */
export const IMAGE_PLACEHOLDER = '<imagehere>';

/**
 * One training/eval example in the reference's JSON layout (field names kept as-is so files
 * round-trip with the PyTorch code). Paths are relative to the dataset root, or absolute inside it.
 */
export interface MigeRecord {
  /** The target image path. */
  image: string;
  width: number;
  height: number;
  /** Entity image paths, in the order of the `<imagehere>` placeholders in `multi_prompt`. */
  entity_path: string[];
  /** The multimodal instruction. */
  multi_prompt: string;
  /** The source image for editing; '' for subject-driven generation. */
  source_path: string;
  /**
   * Which task the record trains (not in the reference's files, which tell tasks apart by path):
   * `subject`, `edit`, `add`, `replace`, or a synthetic-world task name. Optional.
   */
  task?: string;
}

/** MIGEBench's two instruction-based subject-driven editing tasks. */
export type BenchTask = 'add' | 'replace';

/** One MIGEBench add/replace case: the subject to insert, where (mask), the source and the expected result. */
export interface BenchRecord {
  task: BenchTask;
  entity: string;
  mask: string;
  source: string;
  target: string;
  instruction: string;
}

/** Where a record came from: its index in a JSON array, or its 1-based line in a JSONL file. */
export interface RecordPosition {
  index: number;
  /** Set for JSONL only. */
  line?: number;
}

/** A record that could not be used, and why. */
export interface InvalidRecord extends RecordPosition {
  reason: string;
}

/** One item out of a dataset reader: either a structurally valid record or why it is not. */
export type DatasetEntry<T> =
  | ({ ok: true; record: T } & RecordPosition)
  | ({ ok: false; reason: string } & RecordPosition);

export function describePosition(p: RecordPosition): string {
  return p.line !== undefined ? `line ${p.line}` : `record ${p.index}`;
}
