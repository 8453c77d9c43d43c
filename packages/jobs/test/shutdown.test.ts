import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobProducer } from '../src/index.js';
import { startTestRedis, type TestRedis } from '../src/testing.js';
import { doneIds, eventually, request, startWorker, uniqueQueue, within, type Proc } from './helpers.js';

describe('worker shutdown on SIGTERM', () => {
  let redis: TestRedis;
  const procs: Proc[] = [];
  beforeAll(async () => {
    redis = await startTestRedis();
  });
  afterAll(async () => {
    for (const p of procs) p.child.kill('SIGKILL');
    await redis?.stop();
  });

  const runningOn = (producer: JobProducer, id: string) =>
    eventually(async () => {
      const s = await producer.state(id);
      return s?.state === 'active' && (s.progress?.step ?? 0) >= 2 ? s.worker : undefined;
    });

  it('finishes the running job within the grace period, then exits 0', async () => {
    const queue = uniqueQueue('graceful');
    const worker = await startWorker(redis.url, queue, 'patient', ['--grace-ms', '60000']);
    procs.push(worker);
    const producer = await JobProducer.connect({ redis: redis.url, queue });
    try {
      const id = await producer.enqueue(await request(1, 40));
      expect(await runningOn(producer, id)).toBe('patient');
      worker.child.kill('SIGTERM');
      const result = await within(producer.result(id), 60_000, 'the result', [worker]);
      expect(result.worker).toBe('patient');
      expect(await producer.state(id)).toMatchObject({ state: 'done', attempts: 1 });
      expect(await within(worker.exited, 30_000, 'the worker to exit', [worker])).toBe(0);
      expect(worker.lines.at(-1)).toMatch(/stopped$/);
    } finally {
      await producer.close();
    }
  });

  it('with no grace left, stops the job within a step and puts it back: another worker finishes it', async () => {
    const queue = uniqueQueue('requeue');
    const [a, b] = await Promise.all([startWorker(redis.url, queue, 'a', ['--grace-ms', '0']), startWorker(redis.url, queue, 'b', ['--grace-ms', '0'])]);
    procs.push(a, b);
    const producer = await JobProducer.connect({ redis: redis.url, queue });
    try {
      const id = await producer.enqueue(await request(2, 60));
      const first = await runningOn(producer, id);
      const [leaving, staying] = first === 'a' ? [a, b] : [b, a];
      leaving.child.kill('SIGTERM');
      expect(await within(leaving.exited, 30_000, 'the worker to exit', [leaving])).toBe(0);
      const result = await within(producer.result(id), 60_000, 'the result', [a, b]);
      expect(result.worker).toBe(first === 'a' ? 'b' : 'a');
      // Put back without counting as a failure: no retry backoff, two starts, one finish.
      expect(await producer.state(id)).toMatchObject({ state: 'done', attempts: 2 });
      expect(leaving.lines.some((l) => l.includes(`requeue ${id}: the worker is shutting down`))).toBe(true);
      await eventually(() => (doneIds(staying).length > 0 ? true : undefined), 10_000, 'the done line');
      expect([...doneIds(leaving), ...doneIds(staying)]).toEqual([id]);
    } finally {
      await producer.close();
    }
  });
});
