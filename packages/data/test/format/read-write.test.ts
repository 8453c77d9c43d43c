import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MigeInputError } from '@mige/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseBenchRecord, parseMigeRecord, readEntries, writeRecords, type DatasetEntry, type MigeRecord } from '../../src/format/index.js';
import { tempDir } from './fixtures.js';

const rec: MigeRecord = {
  image: 'img/t.png',
  width: 64,
  height: 48,
  entity_path: ['img/e.png'],
  multi_prompt: 'add <imagehere> to the table',
  source_path: 'img/s.png',
};

async function collect<T>(it: AsyncGenerator<DatasetEntry<T>>): Promise<DatasetEntry<T>[]> {
  const out: DatasetEntry<T>[] = [];
  for await (const e of it) out.push(e);
  return out;
}

describe('dataset files', () => {
  let dir = '';
  let cleanup = async () => {};
  beforeEach(async () => ({ dir, cleanup } = await tempDir()));
  afterEach(() => cleanup());

  it('round-trips a JSON array and a JSONL manifest, atomically (no temp files left)', async () => {
    for (const name of ['d.json', 'd.jsonl']) {
      const p = join(dir, name);
      await writeRecords(p, [rec, { ...rec, source_path: '' }]);
      const entries = await collect(readEntries(p, parseMigeRecord));
      expect(entries.map((e) => (e.ok ? e.record : null))).toEqual([rec, { ...rec, source_path: '' }]);
    }
    expect((await readFile(join(dir, 'd.jsonl'), 'utf8')).split('\n')).toHaveLength(3);
    expect((await readdir(dir)).sort()).toEqual(['d.json', 'd.jsonl']);
  });

  it('leaves the old file whole and no temp file when a write fails', async () => {
    const p = join(dir, 'd.json');
    await writeRecords(p, [rec]);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    await expect(writeRecords(p, [cyclic])).rejects.toThrow(/circular/i);
    await expect(writeRecords(join(dir, 'no/such/dir.json'), [rec])).rejects.toThrow(/ENOENT/);
    expect(JSON.parse(await readFile(p, 'utf8'))).toEqual([rec]);
    expect(await readdir(dir)).toEqual(['d.json']);
  });

  it('reports malformed JSONL lines and bad fields with their line numbers and keeps reading', async () => {
    const p = join(dir, 'd.jsonl');
    const lines = [JSON.stringify(rec), '', '{"image": ', JSON.stringify({ ...rec, width: '64' }), '[1]', JSON.stringify(rec)];
    await writeFile(p, lines.join('\n'));
    const entries = await collect(readEntries(p, parseMigeRecord));
    expect(entries.map((e) => [e.line, e.index, e.ok])).toEqual([
      [1, 0, true],
      [3, 1, false],
      [4, 2, false],
      [5, 3, false],
      [6, 4, true],
    ]);
    const reasons = entries.map((e) => (e.ok ? '' : e.reason));
    expect(reasons[1]).toMatch(/malformed JSON/);
    expect(reasons[2]).toBe('field "width" must be a number, got string');
    expect(reasons[3]).toBe('expected a JSON object, got an array');
  });

  it('keeps an optional string "task" and rejects any other type', () => {
    expect(parseMigeRecord({ ...rec, task: 'compose_add' })).toEqual({ ok: true, record: { ...rec, task: 'compose_add' } });
    expect(parseMigeRecord({ ...rec, task: 3 })).toEqual({ ok: false, reason: 'field "task" must be a string, got number' });
  });

  it('defaults a missing source_path to "" and entity_path to []', () => {
    const r = parseMigeRecord({ image: 'a.png', width: 1, height: 1, multi_prompt: 'x' });
    expect(r).toEqual({ ok: true, record: { image: 'a.png', width: 1, height: 1, multi_prompt: 'x', entity_path: [], source_path: '' } });
    expect(parseMigeRecord({ ...rec, entity_path: ['a', 3] })).toEqual({ ok: false, reason: 'entity_path[1] must be a string, got number' });
    expect(parseMigeRecord({ ...rec, source_path: 7 })).toEqual({ ok: false, reason: 'field "source_path" must be a string, got number' });
    expect(parseMigeRecord({ ...rec, source_path: null })).toMatchObject({ ok: true, record: { source_path: '' } });
  });

  it('rejects a JSON file that is malformed or not an array, and a missing file', async () => {
    await writeFile(join(dir, 'bad.json'), '[{"image": 1},');
    await writeFile(join(dir, 'obj.json'), '{}');
    await mkdir(join(dir, 'sub.json'));
    await expect(collect(readEntries(join(dir, 'bad.json'), parseMigeRecord))).rejects.toThrow(/bad\.json: malformed JSON/);
    await expect(collect(readEntries(join(dir, 'obj.json'), parseMigeRecord))).rejects.toThrow('must be an array of records');
    await expect(collect(readEntries(join(dir, 'none.jsonl'), parseMigeRecord))).rejects.toThrow(MigeInputError);
    await expect(collect(readEntries(join(dir, 'none.json'), parseMigeRecord))).rejects.toThrow('dataset file not found');
    await expect(collect(readEntries(join(dir, 'sub.json'), parseMigeRecord))).rejects.toThrow('is not a regular file');
  });

  it('parses bench records and names the bad field', () => {
    const b = { task: 'add', entity: 'e.png', mask: 'm.png', source: 's.png', target: 't.png', instruction: 'add it' };
    expect(parseBenchRecord(b)).toEqual({ ok: true, record: b });
    expect(parseBenchRecord({ ...b, task: 'edit' })).toEqual({ ok: false, reason: 'field "task" must be "add" or "replace", got "edit"' });
    expect(parseBenchRecord({ ...b, mask: 1 })).toEqual({ ok: false, reason: 'field "mask" must be a string, got number' });
  });
});
