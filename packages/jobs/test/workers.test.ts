import type { MigeModel } from '@mige/pipelines';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobProducer, type EnqueueRequest } from '../src/index.js';
import { startTestRedis, type TestRedis } from '../src/testing.js';
import { doneIds, eventually, request, runInProcess, startWorker, tinyModel, uniqueQueue, within, type Proc } from './helpers.js';

const JOBS = 30;

describe('3 worker processes on one Redis queue', () => {
  let redis: TestRedis;
  let model: MigeModel;
  let producer: JobProducer;
  let workers: Proc[];
  const queue = uniqueQueue('workers');

  beforeAll(async () => {
    redis = await startTestRedis();
    [model, workers] = await Promise.all([tinyModel(), Promise.all(['w1', 'w2', 'w3'].map((name) => startWorker(redis.url, queue, name)))]);
    producer = await JobProducer.connect({ redis: redis.url, queue });
  });
  afterAll(async () => {
    for (const w of workers ?? []) w.child.kill('SIGKILL');
    await producer?.close();
    model?.dispose();
    await redis?.stop();
  });

  it('runs 30 jobs, each exactly once, with the bytes the same requests give in-process', async () => {
    const requests = await Promise.all(Array.from({ length: JOBS }, (_, k) => request(k)));
    const ids = await Promise.all(requests.map((r) => producer.enqueue(r)));
    const results = await within(Promise.all(ids.map((id) => producer.result(id))), 90_000, 'the 30 results', workers);

    // Every job finished once: one "done" line among all workers (each logs it once BullMQ has
    // recorded the result, just after the producer hears of it), one attempt, all three took part.
    const done = await eventually(() => (workers.flatMap(doneIds).length >= JOBS ? workers.flatMap(doneIds) : undefined), 10_000, '30 done lines');
    expect(done.sort()).toEqual([...ids].sort());
    for (const w of workers) expect(doneIds(w).length).toBeGreaterThan(0);
    const infos = await Promise.all(ids.map((id) => producer.state(id)));
    expect(infos.map((i) => [i?.state, i?.attempts])).toEqual(ids.map(() => ['done', 1]));
    expect(new Set(results.map((r) => r.worker))).toEqual(new Set(['w1', 'w2', 'w3']));

    for (let k = 0; k < JOBS; k++) {
      const expected = await runInProcess(model, requests[k] as EnqueueRequest);
      expect(results[k]?.images.length).toBe(1);
      expect(Buffer.compare(results[k]?.images[0] as Buffer, expected[0] as Buffer), `job ${k}`).toBe(0);
      expect(results[k]?.params[0]).toMatchObject({ flow: ['generate', 'edit', 'compose'][k % 3], seed: k, steps: 3, model: 'mige-tiny' });
    }

    const m = await producer.metrics();
    expect(m).toMatchObject({ depth: 0, active: 0, completed: JOBS, failed: 0 });
    expect(m.jobSeconds?.count).toBe(JOBS);
    expect(m.jobSeconds?.p95).toBeGreaterThanOrEqual(m.jobSeconds?.p50 ?? Infinity);
  });

  it('kill -9 of a worker mid-job: another worker takes the job up and finishes it once', async () => {
    const req = await request(1, 60);
    const id = await producer.enqueue(req);
    const events: string[] = [];
    const collecting = (async () => {
      for await (const e of producer.events(id)) events.push(e.type === 'progress' ? `progress` : e.type);
    })();
    const info = await eventually(async () => {
      const s = await producer.state(id);
      return s?.state === 'active' && (s.progress?.step ?? 0) >= 3 ? s : undefined;
    });
    const victim = workers.find((w) => w.lines.some((l) => l.includes(`start ${id} `)));
    expect(victim, `no worker logged the start of ${id}`).toBeDefined();
    expect(info.worker).toBe(['w1', 'w2', 'w3'][workers.indexOf(victim as Proc)]);
    (victim as Proc).child.kill('SIGKILL');

    const result = await within(producer.result(id), 60_000, 'the result after kill -9', workers);
    await collecting;
    expect(result.worker).not.toBe(info.worker);
    expect(Buffer.compare(result.images[0] as Buffer, (await runInProcess(model, req))[0] as Buffer)).toBe(0);
    const after = await producer.state(id);
    expect(after).toMatchObject({ state: 'done', attempts: 2 });
    // Started twice, finished once: only the surviving worker logged "done", and the events end with one done.
    await eventually(() => (workers.some((w) => doneIds(w).includes(id)) ? true : undefined), 10_000, 'its done line');
    expect(workers.flatMap(doneIds).filter((d) => d === id)).toEqual([id]);
    expect(events.filter((t) => t === 'done')).toEqual(['done']);
    // Started, back in line when its worker died, started again.
    const firstActive = events.indexOf('active');
    const requeued = events.indexOf('waiting', firstActive);
    expect(firstActive).toBeGreaterThanOrEqual(0);
    expect(requeued).toBeGreaterThan(firstActive);
    expect(events.indexOf('active', requeued)).toBeGreaterThan(requeued);
  });
});
