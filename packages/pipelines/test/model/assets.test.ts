import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { packageRoot, tinyTokenizer, tinyTokenizerPath } from '../../src/model/index.js';
import { fixturePath } from './helpers.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

describe('shipped assets', () => {
  it('finds the package root from src/model/ and from dist/', () => {
    expect(packageRoot()).toBe(root);
    expect(packageRoot(join(root, 'src', 'model'))).toBe(root);
    expect(packageRoot(join(root, 'dist'))).toBe(root);
    expect(() => packageRoot('/')).toThrow(/no package\.json named @mige\/pipelines above this module/);
  });

  it('ships the fixtures tokenizer for mige-tiny', () => {
    expect(tinyTokenizerPath()).toBe(join(root, 'assets', 'tokenizer-tiny.json'));
    expect(readFileSync(tinyTokenizerPath(), 'utf8')).toBe(readFileSync(fixturePath('t5_tokenizer/tokenizer.json'), 'utf8'));
    const ids = JSON.parse(readFileSync(fixturePath('t5_tokenizer/ids.json'), 'utf8')) as { cases: { text: string; ids_with_special: number[] }[] };
    expect(tinyTokenizer().vocabSize).toBe(2100);
    expect(tinyTokenizer()).toBe(tinyTokenizer()); // parsed once
    for (const c of ids.cases.slice(0, 5)) expect(tinyTokenizer().encode(c.text)).toEqual(c.ids_with_special);
    const json = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { files: string[] };
    expect(json.files).toContain('assets');
  });
});
