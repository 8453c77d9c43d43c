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

/** What each errno means to someone who gave us a path. */
const FS_MESSAGES: Readonly<Record<string, string>> = {
  ENOENT: 'no such file or folder',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'is a folder, not a file',
  ENOTDIR: 'a part of the path is not a folder',
  EROFS: 'the file system is read-only',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  ELOOP: 'too many levels of symbolic links',
  ENAMETOOLONG: 'the path is too long',
  EMFILE: 'too many open files',
  EEXIST: 'already exists',
};

/**
 * A Node file-system error (errno code) as a one-line MigeInputError naming `where` and what
 * was being done ("cannot write: the file system is read-only"); anything else is returned as is.
 */
export function fileSystemError(error: unknown, where: string, doing?: string): unknown {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code !== 'string' || !/^E[A-Z]+$/.test(code)) return error;
  const what = FS_MESSAGES[code] ?? `${code}: ${(error as Error).message.replace(/^[A-Z]+: /, '')}`;
  return new MigeInputError(doing ? `cannot ${doing}: ${what}` : what, where);
}
