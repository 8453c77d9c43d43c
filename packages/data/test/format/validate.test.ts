import { mkdir, realpath, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MigeInputError } from '@mige/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { countPlaceholders, loadDataset, summarizeSkipped, writeRecords, type MigeRecord } from '../../src/format/index.js';
import { tempDir, writePng } from './fixtures.js';

const good: MigeRecord = {
  image: 'img/t.png',
  width: 40,
  height: 30,
  entity_path: ['img/e1.png', 'img/e2.png'],
  multi_prompt: 'replace <imagehere> with <imagehere>',
  source_path: 'img/s.png',
};

describe('dataset validation', () => {
  let base = '';
  let root = '';
  let cleanup = async () => {};
  beforeEach(async () => {
    ({ dir: base, cleanup } = await tempDir());
    root = join(base, 'ds');
    await mkdir(join(root, 'img'), { recursive: true });
    await writePng(join(root, 'img/t.png'), 40, 30);
    await writePng(join(root, 'img/s.png'), 40, 30);
    await writePng(join(root, 'img/e1.png'), 16, 16);
    await writePng(join(root, 'img/e2.png'), 20, 10);
    await writePng(join(base, 'outside.png'), 40, 30);
    await writeFile(join(root, 'img/broken.png'), 'not an image');
    await symlink(join(base, 'outside.png'), join(root, 'img/link.png'));
    await symlink(join(root, 'img/t.png'), join(root, 'img/inside-link.png'));
  });
  afterEach(() => cleanup());

  it('loads a valid dataset with real absolute paths', async () => {
    const p = join(root, 'train.json');
    await writeRecords(p, [good, { ...good, source_path: '', image: 'img/inside-link.png' }, { ...good, image: join(root, 'img/t.png') }]);
    const { records, skipped } = await loadDataset(p);
    const real = await realpath(root);
    expect(skipped).toEqual([]);
    expect(records).toHaveLength(3);
    expect(records[0]).toMatchObject({
      target: join(real, 'img/t.png'),
      source: join(real, 'img/s.png'),
      entities: [join(real, 'img/e1.png'), join(real, 'img/e2.png')],
    });
    expect(records[1]?.source).toBeNull();
    expect(records[1]?.target).toBe(join(real, 'img/t.png'));
  });

  // Each case: the record, and what its reason must say.
  const cases: [string, Partial<MigeRecord>, RegExp][] = [
    ['missing target', { image: 'img/nope.png' }, /image "img\/nope.png": file not found/],
    ['undecodable entity', { entity_path: ['img/e1.png', 'img/broken.png'] }, /entity_path\[1\] "img\/broken.png": unrecognised image format/],
    ['too few entities', { entity_path: ['img/e1.png'] }, /2 <imagehere> placeholder\(s\) but entity_path has 1/],
    ['too many entities', { multi_prompt: 'add <imagehere>' }, /1 <imagehere> placeholder\(s\) but entity_path has 2/],
    ['.. escape', { source_path: '../outside.png' }, /source_path "..\/outside.png" leaves the dataset root$/],
    ['absolute path outside', { image: '/etc/passwd' }, /image "\/etc\/passwd" leaves the dataset root$/],
    ['symlink escape', { image: 'img/link.png' }, /image "img\/link.png" leaves the dataset root through a symlink/],
    ['zero width', { width: 0 }, /width 0 must be an integer in \[1, 16384\]/],
    ['fractional height', { height: 30.5 }, /height 30.5 must be an integer/],
    ['huge width', { width: 100000 }, /width 100000 must be an integer in \[1, 16384\]/],
    ['size not matching target', { width: 41 }, /41x30 does not match the target image's 40x30/],
    ['empty instruction', { multi_prompt: '  ', entity_path: [] }, /multi_prompt \(the instruction\) is empty/],
    ['empty entity path', { multi_prompt: 'x <imagehere>', entity_path: [''] }, /entity_path\[0\] is empty/],
    ['directory as image', { image: 'img' }, /image "img" is not a regular file/],
  ];

  it.each(cases)('rejects a record with %s', async (_name, patch, reason) => {
    const p = join(root, 'd.json');
    await writeRecords(p, [good, { ...good, ...patch }]);
    const err = await loadDataset(p).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MigeInputError);
    expect((err as Error).message).toMatch(/1 invalid record\(s\)/);
    expect((err as Error).message).toMatch(/record 1: /);
    const { records, skipped } = await loadDataset(p, { skipInvalid: true });
    expect(records).toHaveLength(1);
    expect(skipped).toHaveLength(1);
    expect(skipped[0]?.index).toBe(1);
    expect(skipped[0]?.reason).toMatch(reason);
  });

  it('reports every bad record of a JSONL file with its line, and all reasons of one record', async () => {
    const p = join(root, 'd.jsonl');
    const lines = [
      JSON.stringify(good),
      JSON.stringify({ ...good, width: 0, image: 'img/nope.png' }),
      '',
      'not json',
      JSON.stringify({ ...good, multi_prompt: 7 }),
      JSON.stringify(good),
    ];
    await writeFile(p, lines.join('\n') + '\n');
    const err = (await loadDataset(p).catch((e: unknown) => e)) as Error;
    expect(err.message).toMatch(/3 invalid record\(s\)/);
    expect(err.message).toMatch(/line 2: width 0 must be.*; image "img\/nope.png": file not found/);
    expect(err.message).toMatch(/line 4: malformed JSON/);
    expect(err.message).toMatch(/line 5: field "multi_prompt" must be a string, got number/);
    const loaded = await loadDataset(p, { skipInvalid: true });
    expect(loaded.records).toHaveLength(2);
    expect(loaded.skipped.map((s) => [s.line, s.index])).toEqual([[2, 1], [4, 2], [5, 3]]);
    expect(summarizeSkipped(loaded).split('\n')[0]).toBe('skipped 3 of 5 records');
  });

  it('keeps record order whatever the concurrency, and rejects a bad one', async () => {
    const p = join(root, 'd.jsonl');
    const recs = Array.from({ length: 9 }, (_, i) => (i % 3 === 1 ? { ...good, width: 1 + i } : { ...good, multi_prompt: `r${i} <imagehere><imagehere>` }));
    await writeRecords(p, recs);
    for (const concurrency of [1, 3, 16]) {
      const out = await loadDataset(p, { skipInvalid: true, concurrency });
      expect(out.records.map((r) => r.record.multi_prompt.slice(0, 2))).toEqual(['r0', 'r2', 'r3', 'r5', 'r6', 'r8']);
      expect(out.skipped.map((s) => s.line)).toEqual([2, 5, 8]);
    }
    await expect(loadDataset(p, { concurrency: 0 })).rejects.toThrow('concurrency must be a positive integer, got 0');
  });

  it('applies image limits to the declared size and the decode', async () => {
    const p = join(root, 'd.json');
    await writeRecords(p, [good]);
    const { skipped } = await loadDataset(p, { skipInvalid: true, limits: { maxWidth: 32 } });
    expect(skipped[0]?.reason).toMatch(/width 40 must be an integer in \[1, 32\]/);
    expect(skipped[0]?.reason).toMatch(/image width 40 exceeds the limit maxWidth=32/);
  });

  it('checks only existence when decode is off', async () => {
    const p = join(root, 'd.json');
    await writeRecords(p, [{ ...good, entity_path: ['img/e1.png', 'img/broken.png'], width: 41 }]);
    expect((await loadDataset(p, { decode: false })).records).toHaveLength(1);
  });

  it('accepts its own resolved paths again under a root reached through a symlink', async () => {
    await symlink(root, join(base, 'alias'));
    const alias = join(base, 'alias');
    await writeRecords(join(root, 'd.json'), [good]);
    const r = (await loadDataset(join(alias, 'd.json'), { root: alias })).records[0];
    if (!r) throw new Error('expected a record');
    const again = { ...good, image: r.target, source_path: r.source ?? '', entity_path: r.entities };
    await writeRecords(join(root, 'again.json'), [again]);
    expect((await loadDataset(join(alias, 'again.json'), { root: alias })).records).toHaveLength(1);
  });

  it('uses an explicit root and rejects a missing one', async () => {
    const p = join(base, 'list.json');
    await writeRecords(p, [good]);
    expect((await loadDataset(p, { root })).records).toHaveLength(1);
    await expect(loadDataset(p, { root: join(base, 'none') })).rejects.toThrow('dataset root does not exist');
  });

  it('counts placeholders', () => {
    expect(countPlaceholders('a <imagehere> b <imagehere><imagehere>')).toBe(3);
    expect(countPlaceholders('<image here>')).toBe(0);
  });
});
