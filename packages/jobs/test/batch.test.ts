import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MigeModel } from '@mige/pipelines';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRedis, type TestRedis } from '../src/testing.js';
import { doneIds, eventually, MIGE_CLI, picture, png, run, runInProcess, startWorker, tinyModel, uniqueQueue, type Proc } from './helpers.js';

const LINES = 12;

/** Line k of the requests file: its images are files beside it. */
function line(k: number): Record<string, unknown> {
  const base = { steps: 10, seed: k };
  if (k === 4) return { id: 'two-cats', flow: 'generate', instruction: '<imagehere> on grass', images: ['b.png'], numImages: 2, ...base };
  switch (k % 3) {
    case 0:
      return { flow: 'generate', instruction: '<imagehere> in the center, on a plain blue background', images: ['a.png'], ...base };
    case 1:
      return { flow: 'edit', instruction: 'make the square in <imagehere> red', images: ['b.png'], ...base };
    default:
      return { flow: 'compose', instruction: 'in <imagehere>, replace the square with <imagehere>', images: ['a.png', 'b.png'], ...base };
  }
}

describe('mige batch', () => {
  let redis: TestRedis;
  let model: MigeModel;
  let dir: string;
  const procs: Proc[] = [];
  beforeAll(async () => {
    [redis, model, dir] = await Promise.all([startTestRedis(), tinyModel(), mkdtemp(join(tmpdir(), 'mige-batch-'))]);
    await writeFile(join(dir, 'a.png'), await png(picture(1)));
    await writeFile(join(dir, 'b.png'), await png(picture(2)));
    await writeFile(join(dir, 'requests.jsonl'), `${Array.from({ length: LINES }, (_, k) => JSON.stringify(line(k))).join('\n')}\n`);
  });
  afterAll(async () => {
    for (const p of procs) p.child.kill('SIGKILL');
    model?.dispose();
    await redis?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('interrupted (kill -9) and run again: every output once, and no job run twice', async () => {
    const queue = uniqueQueue('batch');
    const worker = await startWorker(redis.url, queue, 'w');
    procs.push(worker);
    const out = join(dir, 'results');
    // Through the mige command, which loads @mige/jobs for it.
    const batch = () => run([MIGE_CLI, 'batch', '--in', join(dir, 'requests.jsonl'), '--out', out, '--redis', redis.url, '--queue', queue]);
    const first = batch();
    procs.push(first);
    await eventually(async () => (existsSync(out) && (await readdir(out)).filter((f) => f.endsWith('.json')).length >= 3 ? true : undefined));
    first.child.kill('SIGKILL');
    await first.exited;

    const second = batch();
    expect(await second.exited).toBe(0);
    const already = Number(/(\d+) of 12 already done/.exec(second.lines.join('\n'))?.[1]);
    expect(already).toBeGreaterThanOrEqual(3);
    expect(already).toBeLessThan(LINES);
    expect(second.lines.at(-1)).toMatch(/\] 12\/12 done, [\d.]+ jobs\/s/);

    const ids = Array.from({ length: LINES }, (_, k) => (k === 4 ? 'two-cats' : String(k + 1).padStart(2, '0')));
    const expected = ids.flatMap((id) => (id === 'two-cats' ? [`${id}-0.png`, `${id}-1.png`, `${id}.json`] : [`${id}.png`, `${id}.json`]));
    expect((await readdir(out)).sort()).toEqual(expected.sort());
    const sidecars = await Promise.all(ids.map(async (id) => JSON.parse(await readFile(join(out, `${id}.json`), 'utf8')) as { job: string; line: number; images: string[]; params: { seed: number }[] }));
    expect(sidecars.map((s) => s.line)).toEqual(ids.map((_, k) => k + 1));
    expect(sidecars[4]?.params.map((p) => p.seed)).toEqual([4, 5]);
    // The worker ran each line's job once: jobs that finished while no batch was running were collected, not run again.
    await eventually(() => (doneIds(worker).length >= LINES ? true : undefined), 10_000, 'the done lines');
    expect(doneIds(worker).sort()).toEqual(sidecars.map((s) => s.job).sort());

    const k = 2;
    const req = { ...line(k), images: [await png(picture(1)), await png(picture(2))] };
    expect(Buffer.compare(await readFile(join(out, `${ids[k]}.png`)), (await runInProcess(model, req as never))[0] as Buffer)).toBe(0);

    const third = batch();
    expect(await third.exited).toBe(0);
    expect(third.lines.join('\n')).toContain('12 of 12 already done');
    expect(doneIds(worker).length).toBe(LINES);
  });

  it('stops at a malformed line before any work, and fails a bad request on its own line', async () => {
    const queue = uniqueQueue('batch-bad');
    const bad = join(dir, 'bad.jsonl');
    const out = join(dir, 'bad-results');
    const args = (file: string) => [MIGE_CLI, 'batch', '--in', file, '--out', out, '--redis', redis.url, '--queue', queue];
    await writeFile(bad, `${JSON.stringify(line(0))}\n{"flow": "edit",\n`);
    const syntax = run(args(bad));
    expect(await syntax.exited).toBe(1);
    expect(syntax.lines.join('\n')).toMatch(/^mige batch: error: .*bad\.jsonl:2: not valid JSON/m);
    expect(existsSync(out)).toBe(false);

    const worker = await startWorker(redis.url, queue, 'w2');
    procs.push(worker);
    // Line 3 names five files that do not exist: counted before any is read.
    const tooMany = { flow: 'generate', instruction: '<imagehere>'.repeat(5), images: ['a.png', 'b.png', 'c.png', 'd.png', 'e.png'] };
    await writeFile(bad, `${JSON.stringify({ ...line(0), steps: 2 })}\n${JSON.stringify({ flow: 'edit', instruction: 'x', images: ['missing.png'] })}\n${JSON.stringify(tooMany)}\n`);
    const partly = run(args(bad));
    expect(await partly.exited).toBe(1);
    expect(partly.lines.join('\n')).toMatch(/2 of 3 failed/);
    expect((await readdir(out)).sort()).toEqual(['1.json', '1.png', '2.error.json', '3.error.json']);
    expect(JSON.parse(await readFile(join(out, '2.error.json'), 'utf8'))).toMatchObject({ id: '2', line: 2, error: 'line 2 images[0] missing.png: no such image file' });
    expect(JSON.parse(await readFile(join(out, '3.error.json'), 'utf8'))).toMatchObject({ id: '3', line: 3, error: 'line 3: 5 images were given: at most 4 per request' });
  });
});
