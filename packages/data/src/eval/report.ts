import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { writeImage, type RgbImage } from '@mige/core';
import { writeTextAtomic } from '../format/write-dataset.js';
import { blankCanvas } from './baselines.js';
import { OBJECT_FAILURES } from './object-metrics.js';
import { METRIC_NAMES, type EvalReport, type EvalSample, type MetricName, type ScoreRow } from './evaluate.js';

const HEADERS: Record<MetricName, string> = {
  l1: 'L1 ↓', l2: 'L2 ↓', instructed: 'instructed ↑', othersUnchanged: 'others unchanged ↑', subjectPreserved: 'subject preserved ↑',
  dino: 'DINO ↑', clipI: 'CLIP-I ↑', clipT: 'CLIP-T ↑', clipDir: 'CLIPdir ↑',
};

function cells(row: ScoreRow, shown: readonly MetricName[]): string[] {
  return shown.map((m) => {
    const v = row.metrics[m];
    return v === null ? '–' : v.toFixed(4);
  });
}

/** The report as a Markdown table: a row per task plus "all", a column per metric. */
export function reportMarkdown(report: EvalReport): string {
  // Metrics no example had (e.g. DINO without its encoder) get no column.
  const shown = METRIC_NAMES.filter((m) => report.overall.metrics[m] !== null);
  const head = ['task', 'n', ...shown.map((m) => HEADERS[m])];
  const lines = [`| ${head.join(' | ')} |`, `| ${head.map(() => '---').join(' | ')} |`];
  for (const [task, row] of Object.entries(report.tasks)) lines.push(`| ${task} | ${row.n} | ${cells(row, shown).join(' | ')} |`);
  lines.push(`| **all** | ${report.overall.n} | ${cells(report.overall, shown).join(' | ')} |`);
  const failures = failureMarkdown(report);
  return lines.join('\n') + '\n' + (failures ? `\nWhy the placed-object checks fail (cases; objectFailure):\n\n${failures}` : '');
}

/** The report's objectFailure counts as a Markdown table (a row per task), or '' when it has none. */
export function failureMarkdown(report: EvalReport): string {
  if (!report.failures) return '';
  const lines = [`| task | ${OBJECT_FAILURES.join(' | ')} |`, `| --- | ${OBJECT_FAILURES.map(() => '---').join(' | ')} |`];
  for (const [task, counts] of Object.entries(report.failures)) lines.push(`| ${task} | ${OBJECT_FAILURES.map((k) => counts[k] ?? 0).join(' | ')} |`);
  return lines.join('\n') + '\n';
}

const GAP = 2;
const GAP_GREY = 96;

/**
 * Images in rows and columns on a grey ground (GAP px between cells of the largest image's size).
 * Short rows are padded with blank cells before their last `keepRight` images, so those line up.
 */
export function imageGrid(rows: readonly (readonly RgbImage[])[], keepRight = 0): RgbImage {
  const all = rows.flat();
  const cw = Math.max(1, ...all.map((i) => i.width)), ch = Math.max(1, ...all.map((i) => i.height));
  const cols = Math.max(1, ...rows.map((r) => r.length));
  const width = cols * cw + (cols + 1) * GAP, height = Math.max(1, rows.length) * ch + (Math.max(1, rows.length) + 1) * GAP;
  const grid: RgbImage = { width, height, data: new Uint8Array(width * height * 3).fill(GAP_GREY) };
  rows.forEach((row, r) => {
    const k = Math.min(keepRight, row.length);
    const padded = [...row.slice(0, row.length - k), ...Array.from({ length: cols - row.length }, () => blankCanvas(cw, ch)), ...row.slice(row.length - k)];
    padded.forEach((img, c) => {
      const ox = GAP + c * (cw + GAP), oy = GAP + r * (ch + GAP);
      for (let y = 0; y < img.height; y++) {
        const src = y * img.width * 3;
        grid.data.set(img.data.subarray(src, src + img.width * 3), ((oy + y) * width + ox) * 3);
      }
    });
  });
  return grid;
}

/**
 * One row per sample: source (blank when none), entities, output, target; output and target in
 * the last two columns whatever the entity count.
 */
export function sampleGrid(samples: EvalSample[]): RgbImage {
  return imageGrid(
    samples.map((s) => [s.example.source ?? blankCanvas(s.example.target.width, s.example.target.height), ...s.example.entities, s.output, s.example.target]),
    2,
  );
}

/** Writes report.json, report.md and grid.png into `dir` (created if needed), each atomically. */
export async function writeReport(dir: string, report: EvalReport, samples: EvalSample[]): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeTextAtomic(join(dir, 'report.json'), JSON.stringify(report, null, 2) + '\n');
  await writeTextAtomic(join(dir, 'report.md'), `# ${report.name}\n\n${reportMarkdown(report)}`);
  await writeImage(join(dir, 'grid.png'), sampleGrid(samples));
}
