import { MigeInputError } from '../errors.js';

/**
 * A loader for an optional peer dependency: imports `name` on the first call and caches the
 * module; a failed import is not cached (the user may install the package and retry) and
 * becomes a MigeInputError whose message the caller's `explain(why)` builds, `why` being
 * "is not installed" or "could not load (<first line of the error>)".
 */
export function optionalImport<T>(name: string, pick: (module: unknown) => T): (explain: (why: string) => string) => Promise<T> {
  let pending: Promise<T> | undefined;
  return async (explain) => {
    pending ??= import(/* @vite-ignore */ name).then(pick);
    try {
      return await pending;
    } catch (error) {
      pending = undefined;
      const why = isMissingPackage(error, name) ? 'is not installed' : `could not load (${firstLine(error)})`;
      // The message names the package itself; no `where:` prefix repeating it.
      throw new MigeInputError(explain(why));
    }
  };
}

/** A CommonJS package's namespace as `import()` gives it: the module itself or under `default`. */
export function commonJsModule<T>(module: unknown, has: string): T {
  const m = module as Record<string, unknown>;
  return (m[has] !== undefined ? m : (m.default ?? m)) as T;
}

/** The first line of an error's message. */
export function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0]?.trim() ?? '';
}

/**
 * Whether an import of `name` failed because the package itself is not installed, rather than
 * installed and broken: the resolver's message (Node's, or a bundler's or test runner's) quotes
 * the bare name. A broken install fails on a file inside it (a native binding's path), which
 * this does not count.
 */
export function isMissingPackage(error: unknown, name: string): boolean {
  const message = firstLine(error);
  const quoted = message.includes(`'${name}'`) || message.includes(`"${name}"`);
  return quoted && /Cannot find (module|package)|Could not resolve|Failed to (resolve|load)/i.test(message);
}
