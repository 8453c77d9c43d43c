/**
 * Runs the fuzz cases and writes every case's outcome, CPU time and peak RSS to
 * bench-results/fuzz.json (the numbers docs/security.md quotes). The test suite asserts the
 * same cases; this script is for measuring them.
 *   tsx scripts/fuzz-report.ts [--filter <substring>] [--rss-mb <n>] [--cpu-ms <n>] [--out <file>]
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { allCases } from '../src/cases/all.js';
import { runCases } from '../src/run-case.js';

const { values } = parseArgs({ options: { filter: { type: 'string' }, 'rss-mb': { type: 'string' }, 'cpu-ms': { type: 'string' }, out: { type: 'string' }, concurrency: { type: 'string' } } });
const cases = (await allCases()).filter((c) => !values.filter || c.id.includes(values.filter));
const root = join(tmpdir(), `mige-fuzz-report-${process.pid}`);
const watch = {
  ...(values['rss-mb'] ? { maxRssBytes: Number(values['rss-mb']) * 2 ** 20 } : {}),
  ...(values['cpu-ms'] ? { cpuBudgetMs: Number(values['cpu-ms']) } : {}),
};
const started = performance.now();
const results = await runCases(cases, (c, i) => join(root, String(i)), {
  concurrency: Number(values.concurrency ?? 2),
  watch,
  onResult: (r) => {
    const mark = r.problems.length ? 'FAIL' : 'ok  ';
    process.stdout.write(`${mark} ${r.id.padEnd(60)} ${r.outcome.padEnd(8)} in ${(r.inputBytes / 1024).toFixed(0).padStart(7)} KB  cpu ${r.cpuMs.toFixed(0).padStart(6)} ms  rss ${(r.peakRssBytes / 2 ** 20).toFixed(0).padStart(5)} MB  ${r.problems.length ? r.problems.join(' | ').slice(0, 300) : r.message.slice(0, 120)}\n`);
    rmSync(join(root, String(cases.findIndex((c) => c.id === r.id))), { recursive: true, force: true });
  },
});
rmSync(root, { recursive: true, force: true });
const failed = results.filter((r) => r.problems.length > 0);
const out = resolve(values.out ?? join(import.meta.dirname, '../../../bench-results/fuzz.json'));
mkdirSync(dirname(out), { recursive: true });
const compact = results.map((r) => ({ ...r, cpuMs: Math.round(r.cpuMs), wallMs: Math.round(r.wallMs), message: r.message.slice(0, 300) }));
writeFileSync(out, `${JSON.stringify({ date: new Date().toISOString(), node: process.version, seconds: (performance.now() - started) / 1000, cases: results.length, failed: failed.length, results: compact }, null, 1)}\n`);
process.stdout.write(`${results.length} cases, ${failed.length} failed, ${((performance.now() - started) / 1000).toFixed(1)} s; ${out}\n`);
process.exitCode = failed.length ? 1 : 0;
