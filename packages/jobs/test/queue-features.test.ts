import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FlowWorker, JobCancelledError, JobProducer, type JobEvent } from '../src/index.js';
import { eventually, request, redisAndModel, uniqueQueue } from './helpers.js';

const env = redisAndModel();

/** A producer and one in-process worker on a fresh queue. */
async function setup(label: string, workerOptions: { rateLimit?: string; concurrency?: number } = {}) {
  const queue = uniqueQueue(label);
  const log: string[] = [];
  // Long jobs stand in for a busy worker.
  const limits = { maxSteps: 1000 };
  const worker = await FlowWorker.start({ redis: env.redis.url, queue, limits, model: env.model, name: label, log: (line) => log.push(line), ...workerOptions });
  const producer = await JobProducer.connect({ redis: env.redis.url, queue, limits });
  return { producer, worker, log, close: async () => (await worker.close(), await producer.close()) };
}

const activeAtStep = (producer: JobProducer, id: string, step: number) =>
  eventually(async () => {
    const s = await producer.state(id);
    return s?.state === 'active' && (s.progress?.step ?? 0) >= step ? s : undefined;
  });

describe('cancellation', () => {
  let q: Awaited<ReturnType<typeof setup>>;
  beforeAll(async () => (q = await setup('cancel')));
  afterAll(async () => q?.close());

  it('stops a running job within one sampling step of the cancel reaching its worker', async () => {
    const id = await q.producer.enqueue(await request(1, 1000));
    const seen: JobEvent[] = [];
    const following = (async () => {
      for await (const e of q.producer.events(id)) seen.push(e);
    })();
    await activeAtStep(q.producer, id, 3);
    expect(await q.producer.cancel(id, 'the user changed their mind')).toBe(true);
    await following;
    expect(seen.at(-1)).toEqual({ type: 'cancelled', reason: 'the user changed their mind' });
    const line = (await q.producer.logs(id)).join('\n');
    const m = /cancel arrived after step (\d+) of 1000; sampling stopped after step (\d+)/.exec(line);
    expect(m, line).not.toBeNull();
    const [arrived, stopped] = [Number(m?.[1]), Number(m?.[2])];
    expect(arrived).toBeGreaterThanOrEqual(3);
    expect(stopped - arrived).toBeLessThanOrEqual(1);
    // The last progress any listener saw is the step it stopped after; nothing ran to the end.
    const steps = seen.flatMap((e) => (e.type === 'progress' ? [e.step] : []));
    expect(Math.max(...steps)).toBe(stopped);
    expect(await q.producer.state(id)).toMatchObject({ state: 'cancelled', message: 'the user changed their mind', attempts: 1 });
    await expect(q.producer.result(id)).rejects.toBeInstanceOf(JobCancelledError);
    expect(await q.producer.cancel(id)).toBe(false);
  });

  it('takes a waiting job out of the queue: it never starts, and its events say cancelled', async () => {
    const blocker = await q.producer.enqueue(await request(2, 1000));
    await activeAtStep(q.producer, blocker, 1);
    const id = await q.producer.enqueue(await request(3));
    expect(await q.producer.state(id)).toMatchObject({ state: 'waiting', position: 1 });
    expect(await q.producer.cancel(id, 'not needed')).toBe(true);
    expect(await q.producer.state(id)).toMatchObject({ state: 'cancelled', message: 'not needed' });
    const events: JobEvent[] = [];
    for await (const e of q.producer.events(id)) events.push(e);
    expect(events).toEqual([{ type: 'cancelled', reason: 'not needed' }]);
    await q.producer.cancel(blocker);
    await expect(q.producer.result(blocker)).rejects.toBeInstanceOf(JobCancelledError);
    expect(q.log.some((l) => l.includes(`start ${id} `))).toBe(false);
    expect(await q.producer.cancel('no-such-job')).toBe(false);
  });
});

describe('priorities', () => {
  let q: Awaited<ReturnType<typeof setup>>;
  beforeAll(async () => (q = await setup('priority')));
  afterAll(async () => q?.close());

  it('runs higher-priority jobs first, and positions say so', async () => {
    const blocker = await q.producer.enqueue(await request(0, 1000));
    await activeAtStep(q.producer, blocker, 1);
    const low = [await q.producer.enqueue(await request(1), { priority: 50 }), await q.producer.enqueue(await request(2), { priority: 50 })];
    const plain = await q.producer.enqueue(await request(3));
    const high = [await q.producer.enqueue(await request(4), { priority: 1 }), await q.producer.enqueue(await request(5), { priority: 1 })];
    const positions = await Promise.all([...high, ...low, plain].map(async (id) => (await q.producer.state(id))?.position));
    expect(positions).toEqual([1, 2, 3, 4, 5]);
    await q.producer.cancel(blocker);
    await Promise.all([...low, plain, ...high].map((id) => q.producer.result(id)));
    const started = await Promise.all([...high, ...low, plain].map(async (id) => (await q.producer.state(id))?.startedAt ?? NaN));
    expect([...started].sort((a, b) => a - b)).toEqual(started);
  });
});

describe('per-client rate limit', () => {
  let q: Awaited<ReturnType<typeof setup>>;
  const WINDOW = 3000;
  // Several jobs at once: every job is taken up at once and only the limit holds client-a's back
  // (one at a time, jobs slower than half a window, as on a loaded machine, would never reach it).
  beforeAll(async () => (q = await setup('rate', { rateLimit: `2/${WINDOW}ms`, concurrency: 8 })));
  afterAll(async () => q?.close());

  it('starts at most 2 jobs of a client per 3 s window; other clients are not held back', async () => {
    // The requests first (their PNGs), so that the jobs arrive together.
    const [aRequests, bRequests] = [await Promise.all([0, 1, 2, 3, 4].map((k) => request(k, 2))), await Promise.all([5, 6].map((k) => request(k, 2)))];
    // Start near the beginning of a window (fixed windows are aligned to multiples of 3 s).
    await eventually(() => (Date.now() % WINDOW < 200 ? true : undefined));
    const a = await Promise.all(aRequests.map((r) => q.producer.enqueue(r, { clientKey: 'client-a' })));
    const b = await Promise.all(bRequests.map((r) => q.producer.enqueue(r, { clientKey: 'client-b' })));
    await Promise.all([...a, ...b].map((id) => q.producer.result(id)));
    const startsOf = (ids: string[]) => Promise.all(ids.map(async (id) => (await q.producer.state(id))?.startedAt ?? NaN));
    const [aStarts, bStarts] = [await startsOf(a), await startsOf(b)];
    const perWindow = new Map<number, number>();
    for (const t of aStarts) perWindow.set(Math.floor(t / WINDOW), (perWindow.get(Math.floor(t / WINDOW)) ?? 0) + 1);
    expect(Math.max(...perWindow.values())).toBeLessThanOrEqual(2);
    expect(perWindow.size).toBeGreaterThanOrEqual(3);
    expect(q.log.filter((l) => l.startsWith('rate-limited') && l.includes('client-a')).length).toBeGreaterThanOrEqual(3);
    // client-b's jobs, queued behind all of client-a's, ran while client-a waited for a later window.
    expect(Math.max(...bStarts)).toBeLessThan(Math.max(...aStarts));
    expect(q.log.some((l) => l.startsWith('rate-limited') && l.includes('client-b'))).toBe(false);
  });
});
