/**
 * Refreshes RESULTS.md's summary table from evaluate.ts's JSON: for each model and baseline, L2 /
 * instructed / others-unchanged / subject-preserved on subject-driven generation, the six edit
 * tasks, the two compositional tasks and overall, and whether the bar holds (the model
 * named by --default beats copy-source on L2 for edits and compositions). The table goes between
 * the `<!-- results:start -->` and `<!-- results:end -->` lines; the rest of the file is kept.
 *
 *   npx tsx scripts/world-model/results-table.ts --json ../../results/world-benchmark.json --md ../../RESULTS.md
 */
import { readFileSync } from 'node:fs';
import { MigeInputError, writeTextFileAtomic } from '@mige/core';
import type { EvalReport, ScoreRow } from '@mige/data';
import { args } from './common.js';

const a = args({ json: '../../results/world-benchmark.json', md: '../../RESULTS.md', default: 'default' });
const START = '<!-- results:start -->', END = '<!-- results:end -->';

interface Results { reports: EvalReport[]; groups: { name: string; edits: ScoreRow; compositions: ScoreRow }[]; split: { counts?: Record<string, number> } }
const results = JSON.parse(readFileSync(a.json, 'utf8')) as Results;
if (!Array.isArray(results.reports) || !Array.isArray(results.groups)) throw new MigeInputError('not an evaluate.ts results file (needs reports and groups)', a.json);

const f = (v: number | null | undefined, digits = 4) => (v === null || v === undefined ? '–' : v.toFixed(digits));
const cell = (row: ScoreRow | undefined) => (row ? `${f(row.metrics.l2)} / ${f(row.metrics.instructed, 2)} / ${f(row.metrics.othersUnchanged, 2)}` : '–');
const subjectCell = (row: ScoreRow | undefined) => (row ? `${f(row.metrics.l2)} / ${f(row.metrics.instructed, 2)} / ${f(row.metrics.subjectPreserved, 2)}` : '–');

const lines = [
  START,
  '',
  '| model | subject: L2 / instructed / subject preserved | edits: L2 / instructed / others unchanged | compositions: L2 / instructed / others unchanged | overall L2 |',
  '| --- | --- | --- | --- | --- |',
];
results.reports.forEach((r, i) => {
  const g = results.groups[i];
  lines.push(`| ${r.name} | ${subjectCell(r.tasks.subject)} | ${cell(g?.edits)} | ${cell(g?.compositions)} | ${f(r.overall.metrics.l2)} |`);
});
const byName = (name: string) => results.groups.find((g) => g.name === name);
const [model, copy] = [byName(a.default), byName('copy-source')];
if (model && copy) {
  const beats = (k: 'edits' | 'compositions') => {
    const [m, c] = [model[k].metrics.l2, copy[k].metrics.l2];
    if (m === null || c === null) return 'not measured';
    // Enough digits that the two numbers read differently, and the margin, so a tie shows as one.
    let digits = 4;
    while (digits < 6 && f(m, digits) === f(c, digits)) digits++;
    const margin = (Math.abs(m - c) / c) * 100;
    return `${m < c ? 'yes' : 'no'} (${f(m, digits)} vs ${f(c, digits)}, ${margin.toFixed(1)}% ${m < c ? 'lower' : 'higher'})`;
  };
  lines.push('', `Bar, ${a.default} below copy-source's L2: edits ${beats('edits')}, compositions ${beats('compositions')}.`);
}
lines.push('', END);

const md = readFileSync(a.md, 'utf8');
const [s, e] = [md.indexOf(START), md.indexOf(END)];
if (s < 0 || e < s) throw new MigeInputError(`needs a ${START} line followed by a ${END} line`, a.md);
writeTextFileAtomic(a.md, `${md.slice(0, s)}${lines.join('\n')}${md.slice(e + END.length)}`);
console.log(lines.join('\n'));
