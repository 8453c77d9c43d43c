import { describe, expect, it } from 'vitest';
import { mige, tempDir } from './helpers.js';

// `mige worker` / `mige batch` run from @mige/jobs where it is installed (its tests cover them);
// pipelines does not depend on it.
describe('mige worker / mige batch without @mige/jobs', () => {
  it('lists them, and says in one line how to get them', async () => {
    const top = await mige(['--help']);
    expect(top.stdout).toMatch(/ {2}worker +run generation jobs from a Redis queue .*needs @mige\/jobs/);
    expect(top.stdout).toMatch(/ {2}batch +enqueue a JSONL file of requests/);
    const { dir, cleanup } = await tempDir();
    try {
      for (const command of ['worker', 'batch']) {
        // NODE_PATH (set by pnpm for the test run) would find the workspace's copy.
        const r = await mige([command, '--redis', 'redis://127.0.0.1:1'], { cwd: dir, env: { NODE_PATH: '' } });
        expect([r.code, r.stderr]).toEqual([1, `mige ${command}: needs the @mige/jobs package (BullMQ workers over Redis), which is not installed here: npm install @mige/jobs\n`]);
      }
    } finally {
      await cleanup();
    }
  });
});
