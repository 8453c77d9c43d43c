/** The input classes the suite covers (issue 47's, and more). */
export type FuzzClass =
  | 'pth-structure'
  | 'pickle-bomb'
  | 'pickle-values'
  | 'pth-mutation'
  | 'zip'
  | 'safetensors'
  | 'jsonl'
  | 'model-folder'
  | 'cli'
  | 'training'
  | 'http';

/**
 * What a case's child process runs. `lib`: one of child.mjs's targets on a file the case wrote;
 * `cli`: the `mige` command itself, whose stderr must be one line.
 */
export type FuzzTarget =
  | { kind: 'lib'; target: LibTarget; path: string; options?: Record<string, unknown> }
  | { kind: 'cli'; argv: string[] };

export type LibTarget = 'pth' | 'safetensors' | 'dataset' | 'model-config' | 'model' | 'tokenizer' | 'resume';

/**
 * What must happen: refused with a MigeInputError (or for the CLI, exit 1 with one line on
 * stderr) whose message matches; accepted (the loader returned); or either of the two, for
 * random mutations where both are legitimate outcomes.
 */
export type FuzzExpect = { refused: RegExp } | { accepted: true } | { refusedOrAccepted: true };

export interface FuzzCase {
  /** Unique, `class/what`. */
  id: string;
  cls: FuzzClass;
  /** Writes the input files under `dir` (in the test process, untimed) and says what to run. */
  make(dir: string): FuzzTarget | Promise<FuzzTarget>;
  expect: FuzzExpect;
}

/** What a child reports on its last stdout line. */
export type ChildReport =
  | { outcome: 'accepted'; detail: unknown; ms: number; cpuMs: number; maxRssKb: number }
  | { outcome: 'refused'; name: string; message: string; ms: number; cpuMs: number; maxRssKb: number }
  | { outcome: 'crashed'; name: string; message: string; stack: string; ms: number; cpuMs: number; maxRssKb: number };
