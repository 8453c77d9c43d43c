import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');

describe('scripts/eval-baselines.mjs', () => {
  it('prints both baselines as Markdown tables', () => {
    const out = execFileSync(process.execPath, ['--import', 'tsx', 'scripts/eval-baselines.mjs', '1', '2'], { cwd: root, encoding: 'utf8' });
    expect(out).toContain('## copy-source');
    expect(out).toContain('## ground-truth');
    expect(out).toMatch(/\| \*\*all\*\* \| 18 \| 0\.0000 \| 0\.0000 \| 1\.0000 \| 1\.0000 \| 1\.0000 \|/);
  }, 60_000);
});
