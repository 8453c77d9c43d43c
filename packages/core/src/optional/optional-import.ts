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
      const code = (error as { code?: unknown }).code;
      const missing = (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && String((error as Error).message).includes(name);
      const why = missing ? 'is not installed' : `could not load (${error instanceof Error ? error.message.split('\n')[0] : String(error)})`;
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
