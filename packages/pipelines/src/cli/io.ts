/** Where a command writes: stdout for results, stderr for progress and errors (tests pass their own). */
export interface CliIo {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
}

export interface Command {
  name: string;
  summary: string;
  /** The --help text; a function gets the command's arguments (the flow commands show the --model's defaults). */
  help: string | ((argv: readonly string[]) => string);
  run(argv: readonly string[], io: CliIo): Promise<void>;
}
