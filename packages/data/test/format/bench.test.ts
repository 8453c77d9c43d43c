import { mkdir, realpath } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadBench, writeRecords, type BenchRecord } from '../../src/format/index.js';
import { tempDir, writePng } from './fixtures.js';

const add: BenchRecord = { task: 'add', entity: 'e.png', mask: 'm.png', source: 's.png', target: 't.png', instruction: 'add <imagehere> to the left' };

describe('MIGEBench add/replace files', () => {
  let root = '';
  let cleanup = async () => {};
  beforeEach(async () => {
    let base = '';
    ({ dir: base, cleanup } = await tempDir());
    root = join(base, 'bench');
    await mkdir(root);
    for (const f of ['e.png', 'm.png', 's.png', 't.png']) await writePng(join(root, f), 8, 8);
  });
  afterEach(() => cleanup());

  it('reads cases with resolved paths', async () => {
    const p = join(root, 'add.jsonl');
    await writeRecords(p, [add, { ...add, task: 'replace', instruction: 'replace the cup with <imagehere>' }]);
    const { records } = await loadBench(p);
    const real = await realpath(root);
    expect(records.map((r) => [r.task, r.index, r.mask])).toEqual([
      ['add', 0, join(real, 'm.png')],
      ['replace', 1, join(real, 'm.png')],
    ]);
  });

  it('fills the task of one-task files from the option', async () => {
    const p = join(root, 'replace.json');
    const { task: _task, ...noTask } = add;
    await writeRecords(p, [noTask]);
    expect((await loadBench(p, { task: 'replace' })).records[0]?.task).toBe('replace');
    await expect(loadBench(p)).rejects.toThrow(/record 0: field "task" must be "add" or "replace", got undefined/);
  });

  it('reports every bad case, or skips them', async () => {
    const p = join(root, 'add.json');
    await writeRecords(p, [add, { ...add, mask: 'none.png', instruction: '' }, { ...add, target: '../t.png' }, { ...add, task: 'move' }]);
    await expect(loadBench(p)).rejects.toThrow(/3 invalid bench record\(s\)/);
    const { records, skipped } = await loadBench(p, { skipInvalid: true });
    expect(records).toHaveLength(1);
    expect(skipped).toEqual([
      { index: 1, reason: 'instruction is empty; mask "none.png": file not found' },
      { index: 2, reason: 'target "../t.png" leaves the dataset root' },
      { index: 3, reason: 'field "task" must be "add" or "replace", got "move"' },
    ]);
  });
});
