import type { BenchRecord, BenchTask, MigeRecord } from './types.js';

/** Result of a structural check: the typed record, or the first thing wrong with it. */
export type Parsed<T> = { ok: true; record: T } | { ok: false; reason: string };

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describe(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v;
}

/**
 * Checks a decoded JSON value has the reference's record shape (types only; files, paths and
 * placeholder counts are validate.ts's job). Extra fields are ignored as the reference does.
 */
export function parseMigeRecord(value: unknown): Parsed<MigeRecord> {
  if (!isObject(value)) return { ok: false, reason: `expected a JSON object, got ${describe(value)}` };
  for (const key of ['image', 'multi_prompt'] as const) {
    if (typeof value[key] !== 'string') return { ok: false, reason: `field "${key}" must be a string, got ${describe(value[key])}` };
  }
  for (const key of ['width', 'height'] as const) {
    if (typeof value[key] !== 'number') return { ok: false, reason: `field "${key}" must be a number, got ${describe(value[key])}` };
  }
  // A missing (or Python None → null) source_path means subject-driven generation, like ''.
  const source = value.source_path ?? '';
  if (typeof source !== 'string') return { ok: false, reason: `field "source_path" must be a string, got ${describe(source)}` };
  const entities = value.entity_path ?? [];
  if (!Array.isArray(entities)) return { ok: false, reason: `field "entity_path" must be an array, got ${describe(entities)}` };
  const bad = entities.findIndex((e) => typeof e !== 'string');
  if (bad >= 0) return { ok: false, reason: `entity_path[${bad}] must be a string, got ${describe(entities[bad])}` };
  if (value.task !== undefined && typeof value.task !== 'string') return { ok: false, reason: `field "task" must be a string, got ${describe(value.task)}` };
  return {
    ok: true,
    record: {
      image: value.image as string,
      width: value.width as number,
      height: value.height as number,
      entity_path: entities as string[],
      multi_prompt: value.multi_prompt as string,
      source_path: source,
      ...(typeof value.task === 'string' ? { task: value.task } : {}),
    },
  };
}

/**
 * Checks a decoded JSON value is a MIGEBench add/replace case. `defaultTask` fills a missing
 * `task`, for files that hold one task each (add.json / replace.json).
 */
export function parseBenchRecord(value: unknown, defaultTask?: BenchTask): Parsed<BenchRecord> {
  if (!isObject(value)) return { ok: false, reason: `expected a JSON object, got ${describe(value)}` };
  const task = value.task ?? defaultTask;
  if (task !== 'add' && task !== 'replace') {
    return { ok: false, reason: `field "task" must be "add" or "replace", got ${JSON.stringify(task) ?? 'undefined'}` };
  }
  for (const key of ['entity', 'mask', 'source', 'target', 'instruction'] as const) {
    if (typeof value[key] !== 'string') return { ok: false, reason: `field "${key}" must be a string, got ${describe(value[key])}` };
  }
  const { entity, mask, source, target, instruction } = value as unknown as BenchRecord;
  return { ok: true, record: { task, entity, mask, source, target, instruction } };
}
