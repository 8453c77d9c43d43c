/**
 * One error type for bad input anywhere in MIGE.js: a malformed file, instruction, image or
 * config. `where` names the place (a file path, a tensor name, a batch item) so the message can
 * say exactly what is wrong and where.
 */
export class MigeInputError extends Error {
  override readonly name = 'MigeInputError';
  constructor(
    message: string,
    /** What was being read or checked: a path, `file.safetensors:tensorName`, `batch[2]`, ... */
    readonly where?: string,
  ) {
    super(where ? `${where}: ${message}` : message);
  }
}
