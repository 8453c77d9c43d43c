import { describe, expect, it } from 'vitest';
import { MigeAbortError, ProgressTracker, checkAbort, type ProgressEvent } from '../../src/progress.js';

describe('progress and cancellation', () => {
  it('reports step, rate and ETA', () => {
    let t = 0;
    const events: ProgressEvent[] = [];
    const p = new ProgressTracker('sample', 4, { onProgress: (e) => events.push(e) }, () => t);
    t = 500;
    p.step({ loss: 2 });
    t = 1000;
    p.step();
    expect(events.map((e) => [e.step, e.total, e.elapsedMs, e.etaMs, e.rate])).toEqual([[1, 4, 500, 1500, 2], [2, 4, 1000, 1000, 2]]);
    expect(events[0]?.info).toEqual({ loss: 2 });
  });

  it('stops at the next check after abort, naming the stage and step', () => {
    const ac = new AbortController();
    const p = new ProgressTracker('train', 10, { signal: ac.signal });
    let done = 0;
    const run = () => {
      for (let i = 0; i < 10; i++) {
        p.check();
        done++;
        p.step();
        if (i === 2) ac.abort();
      }
    };
    expect(run).toThrow(MigeAbortError);
    expect(done).toBe(3);
    expect(() => checkAbort(ac.signal, 'train', 3)).toThrow('train cancelled at step 3');
    expect(() => checkAbort(undefined, 'x', 0)).not.toThrow();
  });
});
