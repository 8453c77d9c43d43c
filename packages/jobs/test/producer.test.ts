import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MigeInputError } from '@mige/core';
import { admissionSide, loadDefaultModel } from '@mige/pipelines';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FlowWorker, JobFailedError, JobProducer, LocalFolderStore } from '../src/index.js';
import { picture, png, redisAndModel, request, runInProcess, tinyModel, uniqueQueue } from './helpers.js';

const env = redisAndModel();

describe('JobProducer without workers', () => {
  let producer: JobProducer;
  beforeAll(async () => {
    producer = await JobProducer.connect({ redis: env.redis.url, queue: uniqueQueue('producer'), limits: { maxImageBytes: 50_000 } });
  });
  afterAll(async () => producer?.close());

  it("refuses bad requests at enqueue with the playground's validation messages", async () => {
    const img = await png(picture(1));
    const bad = async (req: unknown, options = {}) => {
      const e = await producer.enqueue(req as never, options).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(MigeInputError);
      return (e as Error).message;
    };
    expect(await bad({ flow: 'generate', instruction: 'a <imagehere>', images: [img], source: img })).toBe('generate takes no source or sourceSlot: its images are all subjects');
    expect(await bad({ flow: 'edit', instruction: 'x', images: [] })).toBe('edit takes exactly one image, its source; got 0');
    expect(await bad({ flow: 'edit', instruction: 'x', images: [img], steps: 201 })).toBe('steps must be an integer from 1 to 200, got 201');
    expect(await bad({ flow: 'edit', instruction: 'x', images: [img], colour: 'red' })).toMatch(/^unknown field\(s\) colour/);
    expect(await bad({ flow: 'edit', instruction: 'x', images: [new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12])] })).toMatch(/images\[0\].*(format|PNG|image)/i);
    expect(await bad({ flow: 'edit', instruction: 'x', images: [new Uint8Array(50_001)] })).toBe('images[0] is 50001 bytes, over the limit of 50000 bytes per image');
    expect(await bad({ flow: 'edit', instruction: 'x', images: ['store:inputs/a.png'] })).toMatch(/store reference .* but no store is configured/);
    expect(await bad({ flow: 'edit', instruction: 'x', images: [img] }, { priority: 0 })).toBe('priority: must be an integer >= 1, got 0');
    expect(await bad({ flow: 'edit', instruction: 'x', images: [img] }, { jobId: 'a:b' })).toMatch(/^jobId: must be 1-128 letters/);
    expect(await bad({ flow: 'edit', instruction: 'x', images: [img] }, { jobId: '123' })).toMatch(/^jobId: .*not only digits/);
    expect(await producer.depth()).toBe(0);
  });

  it('is idempotent for a given job id, and knows nothing of unknown ids', async () => {
    const req = await request(4);
    expect(await producer.enqueue(req, { jobId: 'same-1' })).toBe('same-1');
    expect(await producer.enqueue(req, { jobId: 'same-1' })).toBe('same-1');
    expect(await producer.depth()).toBe(1);
    expect(await producer.state('same-1')).toMatchObject({ state: 'waiting', position: 1, attempts: 0, priority: 100 });
    expect(await producer.state('nope')).toBeUndefined();
    await expect(producer.events('nope').next()).rejects.toThrow('no job nope (finished jobs expire)');
    expect(await producer.cancel('same-1')).toBe(true);
    expect(await producer.depth()).toBe(0);
  });

  it('refuses a bad queue configuration', async () => {
    await expect(JobProducer.connect({ redis: 'http://localhost:6379' })).rejects.toThrow('redis: must be a redis:// or rediss:// URL, got "http://localhost:6379"');
    await expect(JobProducer.connect({ redis: env.redis.url, queue: 'a:b' })).rejects.toThrow(/^queue: must be 1-64 letters/);
  });
});

describe('a store folder instead of inline images', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mige-store-'));
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it('carries inputs and results as store references, with the same bytes as inline', async () => {
    const queue = uniqueQueue('store');
    const worker = await FlowWorker.start({ redis: env.redis.url, queue, model: env.model, store: dir });
    const producer = await JobProducer.connect({ redis: env.redis.url, queue, store: dir });
    try {
      const req = await request(2);
      const id = await producer.enqueue(req);
      const result = await producer.result(id);
      expect(Buffer.compare(result.images[0] as Buffer, (await runInProcess(env.model, req))[0] as Buffer)).toBe(0);
      expect((await readdir(join(dir, 'inputs'))).length).toBe(2);
      expect(await readdir(join(dir, 'results'))).toEqual([`${id}-0.png`]);
      // A request may name stored images directly.
      const again = await producer.enqueue({ ...req, images: (await readdir(join(dir, 'inputs'))).map((f) => `store:inputs/${f}`) } as never);
      expect((await producer.result(again)).images[0]?.length).toBeGreaterThan(0);
      const store = new LocalFolderStore(dir);
      await expect(store.get('store:../outside.png', 1000)).rejects.toThrow(/plain relative paths inside the store/);
      await expect(store.get('store:inputs/none.png', 1000)).rejects.toThrow('store:inputs/none.png: no such image in the store');
    } finally {
      await worker.close();
      await producer.close();
    }
  });
});

describe('admission on the worker', () => {
  // The default model (mige-tiny's random weights give the same bytes either way): its images are
  // the source's, so a source resampled once or twice shows in the result.
  it("fits a large image to the model's size as the playground does: the playground's bytes, not those of the full-size image", async () => {
    const model = await loadDefaultModel();
    const queue = uniqueQueue('admission');
    const worker = await FlowWorker.start({ redis: env.redis.url, queue, model });
    const producer = await JobProducer.connect({ redis: env.redis.url, queue });
    try {
      const big = picture(7, admissionSide(model) * 3);
      const req = { flow: 'edit' as const, instruction: 'make the square in <imagehere> red', images: [await png(big)], steps: 2, seed: 3 };
      const [fitted] = await runInProcess(model, req);
      const [unfitted] = await runInProcess(model, req, { admit: false });
      const result = await producer.result(await producer.enqueue(req));
      expect(Buffer.compare(result.images[0] as Buffer, fitted as Buffer)).toBe(0);
      expect(Buffer.compare(fitted as Buffer, unfitted as Buffer)).not.toBe(0);
    } finally {
      await worker.close();
      await producer.close();
      model.dispose();
    }
  });
});

describe('results expire', () => {
  it('a finished job is gone once its time to live has passed and another job finishes', async () => {
    const queue = uniqueQueue('expiry');
    const worker = await FlowWorker.start({ redis: env.redis.url, queue, model: env.model });
    const producer = await JobProducer.connect({ redis: env.redis.url, queue, resultTtlSeconds: 1 });
    try {
      const first = await producer.enqueue(await request(0, 2));
      await producer.result(first);
      expect((await producer.state(first))?.state).toBe('done');
      await new Promise((r) => setTimeout(r, 1100));
      // BullMQ applies the age limit when the next job of the queue finishes.
      await producer.result(await producer.enqueue(await request(1, 2)));
      expect(await producer.state(first)).toBeUndefined();
      expect((await producer.metrics()).completed).toBe(1);
    } finally {
      await worker.close();
      await producer.close();
    }
  });
});

describe('a run that throws', () => {
  it('is retried with backoff, then fails with its message; bad input is not retried', async () => {
    const queue = uniqueQueue('retry');
    // A model whose weights are gone: every run throws (not a MigeInputError).
    const broken = await tinyModel();
    broken.dispose();
    const log: string[] = [];
    const worker = await FlowWorker.start({ redis: env.redis.url, queue, model: broken, log: (l) => log.push(l) });
    const producer = await JobProducer.connect({ redis: env.redis.url, queue, attempts: 3, backoffMs: 100 });
    try {
      // submit: the events from the first on, exactly (events(id) would start with a snapshot).
      const { id, events: stream } = await producer.submit(await request(1, 2));
      const events: string[] = [];
      for await (const e of stream) events.push(e.type);
      expect(events.filter((t) => t === 'active').length).toBe(3);
      const info = await producer.state(id);
      expect(info).toMatchObject({ state: 'failed', attempts: 3 });
      expect(events.filter((t) => t === 'delayed').length).toBe(2);
      expect(events.at(-1)).toBe('failed');
      // Three runs, each logged with the error the job ends with.
      const failures = log.filter((l) => l.startsWith(`failed ${id} `));
      expect(failures.map((l) => /attempt (\d+)/.exec(l)?.[1])).toEqual(['1', '2', '3']);
      expect(failures.at(-1)).toContain(`: ${info?.message}`);
      await expect(producer.result(id)).rejects.toBeInstanceOf(JobFailedError);
      // Bad input (here: a step count over this worker's limit) fails at once, without retries.
      const strict = await FlowWorker.start({ redis: env.redis.url, queue: `${queue}-strict`, model: env.model, limits: { maxSteps: 3 } });
      const lax = await JobProducer.connect({ redis: env.redis.url, queue: `${queue}-strict` });
      try {
        const bad = await lax.enqueue(await request(2, 10));
        await expect(lax.result(bad)).rejects.toThrow('steps must be an integer from 1 to 3, got 10');
        expect(await lax.state(bad)).toMatchObject({ state: 'failed', attempts: 1 });
      } finally {
        await strict.close();
        await lax.close();
      }
    } finally {
      await worker.close();
      await producer.close();
    }
  });
});
