import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FuzzClass } from '../src/case.js';
import { allCases } from '../src/cases/all.js';
import { httpCases } from '../src/cases/http.js';
import { runCases, type CaseResult } from '../src/run-case.js';
import { DEFAULT_WATCH } from '../src/watchdog.js';

/**
 * Every case in its own watched process (2 s of CPU, 1 GiB resident): refused with the specific
 * MigeInputError (or, for `mige`, one line and exit 1 or 2) or accepted, never a crash, a hang,
 * a stack trace or "internal error".
 */
const cases = await allCases();
const CLASSES: FuzzClass[] = ['pth-structure', 'pickle-bomb', 'pickle-values', 'pth-mutation', 'zip', 'safetensors', 'jsonl', 'model-folder', 'cli', 'training', 'http'];

describe('fuzz cases', () => {
  const root = mkdtempSync(join(tmpdir(), 'mige-fuzz-'));
  const results = new Map<string, CaseResult>();
  beforeAll(async () => {
    const dirOf = (_c: unknown, i: number) => join(root, String(i));
    await runCases(cases, dirOf, {
      concurrency: 3,
      onResult: (r) => {
        results.set(r.id, r);
        rmSync(dirOf(undefined, cases.findIndex((c) => c.id === r.id)), { recursive: true, force: true });
      },
    });
  }, 600_000);
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('cover every class, with at least 200 cases of their own', () => {
    const classes = new Set<string>([...cases.map((c) => c.cls), ...httpCases().map(() => 'http')]);
    expect(CLASSES.filter((c) => !classes.has(c))).toEqual([]);
    expect(cases.length + httpCases().length).toBeGreaterThanOrEqual(200);
    expect(new Set(cases.map((c) => c.id)).size).toBe(cases.length);
  });

  it.each(cases.map((c) => [c.id] as const))('%s', (id) => {
    const r = results.get(id);
    expect(r, `${id} did not run`).toBeDefined();
    expect((r as CaseResult).problems).toEqual([]);
    expect((r as CaseResult).peakRssBytes).toBeLessThan(DEFAULT_WATCH.maxRssBytes);
  });
});
