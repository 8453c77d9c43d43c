import { describe, expect, it } from 'vitest';
import type { JobEvent } from '../src/api/api-types.js';
import { JobQueue } from '../src/server/job-queue.js';

describe('JobQueue with concurrency (the --redis runner hands several jobs to workers at once)', () => {
  it('runs up to `concurrency` jobs at once, FIFO after that, with positions counted behind them', async () => {
    const release = new Map<string, () => void>();
    const started: string[] = [];
    // A runner whose jobs end when the test says so.
    const queue = new JobQueue<string>(
      (spec) =>
        new Promise<JobEvent>((resolve) => {
          started.push(spec);
          release.set(spec, () => resolve({ type: 'done', images: [], params: [], warnings: [], seconds: 0 }));
        }),
      { maxQueue: 8, concurrency: 2 },
    );
    const jobs = ['a', 'b', 'c', 'd'].map((s) => queue.submit(s));
    expect(jobs.map((j) => j.position)).toEqual([0, 0, 1, 2]);
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual(['a', 'b']);
    release.get('b')?.();
    await new Promise((r) => setTimeout(r, 10));
    expect(started).toEqual(['a', 'b', 'c']);
    expect(jobs.map((j) => queue.status(j.id)?.state)).toEqual(['running', 'done', 'running', 'queued']);
    expect(queue.status(jobs[3]?.id ?? '')?.position).toBe(1);
    for (const s of ['a', 'c']) release.get(s)?.();
    await new Promise((r) => setTimeout(r, 10));
    release.get('d')?.();
    await queue.drain();
    expect(started).toEqual(['a', 'b', 'c', 'd']);
  });
});
