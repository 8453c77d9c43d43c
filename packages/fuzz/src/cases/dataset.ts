import { closeSync, ftruncateSync, mkdirSync, openSync, symlinkSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { solidPng } from '../builders/png.js';
import type { FuzzCase, FuzzExpect } from '../case.js';
import { Random } from '../random.js';

const refused = (r: RegExp): FuzzExpect => ({ refused: r });

/** A good record whose images exist under `dir` (a 16×16 target, a source and one entity). */
function goodRecord(dir: string, i = 0): Record<string, unknown> {
  mkdirSync(join(dir, 'img'), { recursive: true });
  writeFileSync(join(dir, 'img', `t${i}.png`), solidPng(16, 16));
  writeFileSync(join(dir, 'img', `s${i}.png`), solidPng(16, 16, [10, 10, 200]));
  writeFileSync(join(dir, 'img', `e${i}.png`), solidPng(8, 8, [10, 200, 10]));
  return { image: `img/t${i}.png`, width: 16, height: 16, entity_path: [`img/e${i}.png`], multi_prompt: 'put <imagehere> left', source_path: `img/s${i}.png`, task: 'add' };
}

function jsonlCase(id: string, expect: FuzzExpect, write: (dir: string, path: string) => void, options: Record<string, unknown> = {}, file = 'data.jsonl'): FuzzCase {
  return {
    id: `jsonl/${id}`,
    cls: 'jsonl',
    expect,
    make(dir) {
      const path = join(dir, file);
      write(dir, path);
      return { kind: 'lib', target: 'dataset', path, options };
    },
  };
}

const lines = (...records: unknown[]): string => records.map((r) => (typeof r === 'string' ? r : JSON.stringify(r))).join('\n');

/** A sparse file of `size` bytes starting with `head`: one line of NULs without a newline, costing no disk. */
function sparseLine(path: string, head: string, size: number): void {
  const fd = openSync(path, 'w');
  writeSync(fd, head);
  ftruncateSync(fd, size);
  closeSync(fd);
}

const CASES: FuzzCase[] = [
  jsonlCase('baseline', { accepted: true }, (dir, path) => writeFileSync(path, lines(goodRecord(dir, 0), goodRecord(dir, 1)))),
  jsonlCase('crlf-blank-lines-no-final-newline', { accepted: true }, (dir, path) => writeFileSync(path, `\r\n${JSON.stringify(goodRecord(dir))}\r\n\r\n   \n${JSON.stringify(goodRecord(dir, 1))}`)),
  jsonlCase('line-2MB', refused(/line 2: the line is over the limit of \d+ bytes/), (dir, path) => writeFileSync(path, `${JSON.stringify(goodRecord(dir))}\n{"image":"${'a'.repeat(2_000_000)}"}\n`)),
  jsonlCase('line-2MB-skipped', { accepted: true }, (dir, path) => writeFileSync(path, `{"image":"${'a'.repeat(2_000_000)}"}\n${JSON.stringify(goodRecord(dir))}\n`), { skipInvalid: true }),
  jsonlCase('line-600MB-sparse', refused(/line 1: the line is over the limit of \d+ bytes/), (_dir, path) => sparseLine(path, '{"image":"', 600_000_000)),
  jsonlCase('line-limit-raised', { accepted: true }, (dir, path) => writeFileSync(path, `${JSON.stringify({ ...goodRecord(dir), pad: 'x'.repeat(3_000_000) })}\n`), { maxLineBytes: 4_000_000 }),
  jsonlCase('malformed-json-line-3', refused(/line 3: malformed JSON/), (dir, path) => writeFileSync(path, lines(goodRecord(dir), goodRecord(dir, 1), '{"image": '))),
  jsonlCase('not-an-object', refused(/line 1: expected a JSON object, got an array/), (_dir, path) => writeFileSync(path, '[1,2,3]\n')),
  jsonlCase('nul-bytes', refused(/line 1: malformed JSON/), (_dir, path) => writeFileSync(path, Buffer.from([0, 0, 0, 0x0a]))),
  jsonlCase('invalid-utf8', refused(/line 1: the line is not valid UTF-8/), (_dir, path) => writeFileSync(path, Buffer.from([0x7b, 0x22, 0xc3, 0x28, 0x22, 0x3a, 0x31, 0x7d, 0x0a]))),
  jsonlCase('bom', { accepted: true }, (dir, path) => writeFileSync(path, `\ufeff${JSON.stringify(goodRecord(dir))}\n`)),
  jsonlCase('deep-json-line', refused(/line 1: expected a JSON object, got an array|line 1: malformed JSON/), (_dir, path) => writeFileSync(path, `${'['.repeat(100_000)}${']'.repeat(100_000)}\n`)),
  jsonlCase('100k-bad-lines', refused(/100000 invalid record\(s\)/), (_dir, path) => writeFileSync(path, '{}\n'.repeat(100_000))),
  jsonlCase('100k-bad-lines-skipped', { accepted: true }, (_dir, path) => writeFileSync(path, '{}\n'.repeat(100_000)), { skipInvalid: true }),
  jsonlCase('width-absurd', refused(/width 1000000000 must be an integer in \[1, \d+\]/), (dir, path) => writeFileSync(path, lines({ ...goodRecord(dir), width: 1e9 }))),
  jsonlCase('width-string', refused(/field "width" must be a number, got string/), (dir, path) => writeFileSync(path, lines({ ...goodRecord(dir), width: '16' }))),
  jsonlCase('path-traversal', refused(/image "..\/..\/..\/..\/etc\/passwd" leaves the dataset root/), (dir, path) => writeFileSync(path, lines({ ...goodRecord(dir), image: '../../../../etc/passwd' }))),
  jsonlCase('absolute-path', refused(/image "\/etc\/passwd" leaves the dataset root/), (dir, path) => writeFileSync(path, lines({ ...goodRecord(dir), image: '/etc/passwd' }))),
  jsonlCase('symlink-escape', refused(/image "link\/passwd" leaves the dataset root/), (dir, path) => {
    symlinkSync('/etc', join(dir, 'link'));
    writeFileSync(path, lines({ ...goodRecord(dir), image: 'link/passwd' }));
  }),
  jsonlCase('placeholder-mismatch', refused(/multi_prompt has 2 <imagehere> placeholder\(s\) but entity_path has 1/), (dir, path) => writeFileSync(path, lines({ ...goodRecord(dir), multi_prompt: '<imagehere> and <imagehere>' }))),
  jsonlCase('entity-not-an-image', refused(/entity_path\[0\].*(not a PNG|unsupported|format)/i), (dir, path) => {
    const r = goodRecord(dir);
    writeFileSync(join(dir, 'img', 'e0.png'), 'hello');
    writeFileSync(path, lines(r));
  }),
  jsonlCase('proto-keys', refused(/field "image" must be a string/), (_dir, path) => writeFileSync(path, '{"__proto__":{"image":"x.png"},"constructor":1}\n')),
  jsonlCase('folder-not-file', refused(/is not a regular file/), (_dir, path) => mkdirSync(path)),
  jsonlCase('missing-file', refused(/dataset file not found/), () => undefined),
  jsonlCase('json-array-300MB-sparse', refused(/JSON array file is 300000000 bytes, over/), (_dir, path) => sparseLine(path, '[', 300_000_000), {}, 'data.json'),
  jsonlCase('json-array-not-array', refused(/a JSON dataset must be an array of records/), (_dir, path) => writeFileSync(path, '{"a":1}'), {}, 'data.json'),
];

function mutations(): FuzzCase[] {
  const random = new Random(911);
  const out: FuzzCase[] = [];
  for (let i = 0; i < 6; i++) {
    const seed = random.int(0, 2 ** 30);
    out.push(
      jsonlCase(`flipped-${seed}`, { refusedOrAccepted: true }, (dir, path) => {
        const r = new Random(seed);
        const text = Buffer.from(lines(goodRecord(dir, 0), goodRecord(dir, 1), goodRecord(dir, 2)));
        for (let k = r.int(1, 5); k > 0; k--) text[r.int(0, text.length)] = r.pick([0x0a, 0x22, 0x7b, 0x7d, 0x2c, 0x00, 0xff, r.int(0, 256)]);
        writeFileSync(path, text);
      }),
    );
  }
  return out;
}

export function datasetCases(): FuzzCase[] {
  return [...CASES, ...mutations()];
}
