import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_MAX_LINE_BYTES, parseMigeRecord, readJsonlEntries, type DatasetEntry, type MigeRecord } from '../../src/format/index.js';
import { tempDir } from './fixtures.js';

const record = (image: string): string => JSON.stringify({ image, width: 8, height: 8, entity_path: [], multi_prompt: 'a red square', source_path: '' });

async function entries(path: string, maxLineBytes?: number): Promise<DatasetEntry<MigeRecord>[]> {
  const out: DatasetEntry<MigeRecord>[] = [];
  for await (const e of readJsonlEntries(path, parseMigeRecord, maxLineBytes === undefined ? {} : { maxLineBytes })) out.push(e);
  return out;
}

const summary = (list: DatasetEntry<MigeRecord>[]): string[] => list.map((e) => (e.ok ? `${e.line}: ${e.record.image}` : `${e.line}: ${e.reason}`));

describe('JSONL lines', () => {
  let dir = '';
  let cleanup = async () => {};
  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir());
  });
  afterEach(() => cleanup());

  it('reports an over-long line by its number and reads on past it', async () => {
    const path = join(dir, 'd.jsonl');
    await writeFile(path, `${record('a.png')}\n${record('x'.repeat(300))}\n${record('c.png')}\n`);
    expect(summary(await entries(path, 200))).toEqual([
      '1: a.png',
      '2: the line is over the limit of 200 bytes (maxLineBytes): a record is a few paths and an instruction',
      '3: c.png',
    ]);
  });

  it('stops reading where an over-long line goes on past 16 × the limit (a 600 MB line costs no more than 16 MB)', async () => {
    const path = join(dir, 'd.jsonl');
    await writeFile(path, `${record('a.png')}\n${'z'.repeat(17 * 200)}\n${record('c.png')}\n`);
    expect(summary(await entries(path, 200))).toEqual([
      '1: a.png',
      '2: the line is over the limit of 200 bytes (maxLineBytes): a record is a few paths and an instruction',
      '3: not read: line 2 goes on past 16 × maxLineBytes, so the rest of the file was left unread',
    ]);
    // Within 16 × the limit, the read goes on past the long line.
    await writeFile(path, `${'z'.repeat(15 * 200)}\n${record('c.png')}\n`);
    expect(summary(await entries(path, 200)).at(-1)).toBe('2: c.png');
  });

  it('reports a line over the limit that has no newline at all (the end of the file)', async () => {
    const path = join(dir, 'd.jsonl');
    await writeFile(path, `${record('a.png')}\n${'y'.repeat(DEFAULT_MAX_LINE_BYTES + 1)}`);
    const out = summary(await entries(path));
    expect(out).toEqual(['1: a.png', `2: the line is over the limit of ${DEFAULT_MAX_LINE_BYTES} bytes (maxLineBytes): a record is a few paths and an instruction`]);
  });

  it('takes a line longer than the default when the limit is raised', async () => {
    const path = join(dir, 'd.jsonl');
    const long = record('z'.repeat(DEFAULT_MAX_LINE_BYTES));
    await writeFile(path, `${long}\n`);
    expect((await entries(path, 2 * DEFAULT_MAX_LINE_BYTES)).map((e) => e.ok)).toEqual([true]);
  });

  it('splits lines across read chunks exactly', async () => {
    const path = join(dir, 'd.jsonl');
    const images = Array.from({ length: 30000 }, (_, i) => `img-${i}-${'p'.repeat(i % 97)}.png`);
    await writeFile(path, images.map(record).join('\n'));
    const out = await entries(path);
    expect(out.map((e) => (e.ok ? e.record.image : e.reason))).toEqual(images);
    expect(out.map((e) => e.line)).toEqual(images.map((_, i) => i + 1));
  });

  it('drops a BOM and CR line ends, skips blank lines, and names a line that is not UTF-8', async () => {
    const path = join(dir, 'd.jsonl');
    await writeFile(path, Buffer.concat([Buffer.from(`\ufeff${record('a.png')}\r\n\r\n   \n`), Buffer.from([0x7b, 0xc3, 0x28, 0x7d, 0x0a]), Buffer.from(record('b.png'))]));
    expect(summary(await entries(path))).toEqual(['1: a.png', '4: the line is not valid UTF-8', '5: b.png']);
  });

  it('refuses a limit that is not a positive integer', async () => {
    const path = join(dir, 'd.jsonl');
    await writeFile(path, record('a.png'));
    await expect(entries(path, 0)).rejects.toThrow('maxLineBytes must be a positive integer, got 0');
  });
});
