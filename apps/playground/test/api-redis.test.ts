import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { FlowWorker, JobProducer } from '@mige/jobs';
import { startTestRedis, type TestRedis } from '@mige/jobs/testing';
import type { MigeModel } from '@mige/pipelines';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InfoResponse, JobAccepted, JobEvent } from '../src/api/api-types.js';
import { createServer, parseEventStream } from '../src/server/index.js';
import { redisRunner } from '../src/server/redis-runner.js';
import { openEvents, tinyModel } from './helpers.js';

const LONG = 1000;
type Done = Extract<JobEvent, { type: 'done' }>;

describe('the playground on a job queue (--redis): the same API, jobs run by a worker', () => {
  let redis: TestRedis;
  let model: MigeModel;
  let worker: FlowWorker;
  let producer: JobProducer;
  let onQueue: FastifyInstance;
  let inProcess: FastifyInstance;
  let base: string;
  let info: InfoResponse;
  const queue = `test-playground-${randomUUID().slice(0, 8)}`;
  const workerLog: string[] = [];

  beforeAll(async () => {
    [redis, model] = await Promise.all([startTestRedis(), tinyModel()]);
    const limits = { maxSteps: LONG };
    worker = await FlowWorker.start({ redis: redis.url, queue, model, limits, log: (line) => workerLog.push(line) });
    producer = await JobProducer.connect({ redis: redis.url, queue, limits });
    onQueue = await createServer({ model, limits, runner: redisRunner(producer, { previewEvery: 2 }), concurrency: 4 });
    inProcess = await createServer({ model, limits, previewEvery: 2 });
    base = await onQueue.listen({ host: '127.0.0.1', port: 0 });
    info = (await onQueue.inject({ method: 'GET', url: '/api/info' })).json<InfoResponse>();
  });
  afterAll(async () => {
    await onQueue?.close();
    await inProcess?.close();
    await worker?.close();
    await producer?.close();
    model?.dispose();
    await redis?.stop();
  });

  const example = (id: string) => info.presets.find((p) => p.id === id)?.examples[0];
  const submit = async (app: FastifyInstance, payload: Record<string, unknown>) => {
    const res = await app.inject({ method: 'POST', url: '/api/jobs', payload });
    expect(res.statusCode, res.body).toBe(202);
    return res.json<JobAccepted>();
  };
  const eventsOf = async (app: FastifyInstance, id: string) => parseEventStream((await app.inject({ method: 'GET', url: `/api/jobs/${id}/events` })).body);

  it.each([
    ['edit, the model’s sampler', 'edit', { seed: 3, numImages: 2, scales: { y: 4.5, s: 1.5 } }],
    ['add, DDIM', 'add', { seed: 5, sampler: 'ddim' }],
    ['generate, DPM-Solver named', 'generate', { seed: 7, sampler: 'dpm-solver' }],
  ])('%s: the same events and the same images as in-process', async (_, preset, settings) => {
    const ex = example(preset);
    const flow = info.presets.find((p) => p.id === preset)?.flow;
    const payload = { flow, instruction: ex?.instruction, images: ex?.images, ...(ex?.sourceSlot !== undefined ? { sourceSlot: ex.sourceSlot } : {}), steps: 4, ...settings };
    const [queued, local] = [await submit(onQueue, payload), await submit(inProcess, payload)];
    const [viaQueue, direct] = [await eventsOf(onQueue, queued.id), await eventsOf(inProcess, local.id)];
    const [a, b] = [viaQueue.at(-1) as Done, direct.at(-1) as Done];
    expect([a.type, b.type], JSON.stringify(a)).toEqual(["done", "done"]);
    expect(a.images).toEqual(b.images);
    expect(a.params).toEqual(b.params);
    expect(viaQueue.filter((e) => e.type === 'progress').map((e) => (e as { step: number }).step)).toEqual([1, 2, 3, 4]);
    expect(viaQueue.filter((e) => e.type === 'preview').map((e) => (e as { step: number }).step)).toEqual([2, 4]);
    expect(viaQueue.some((e) => e.type === 'queued' && e.position === 0)).toBe(true);
  });

  it('DELETE stops a running job on its worker within a step', async () => {
    const ex = example('edit');
    const { id } = await submit(onQueue, { flow: 'edit', instruction: ex?.instruction, images: ex?.images, steps: LONG });
    const stream = await openEvents(base, id);
    await stream.waitFor((e) => e.type === 'progress' && e.step >= 2);
    await onQueue.inject({ method: 'DELETE', url: `/api/jobs/${id}` });
    expect(await stream.waitFor((e) => e.type === 'cancelled')).toEqual({ type: 'cancelled', reason: 'cancelled by the user' });
    const steps = stream.events.flatMap((e) => (e.type === 'progress' ? [e.step] : []));
    expect(Math.max(...steps)).toBeLessThan(LONG);
    const line = workerLog.find((l) => l.includes(`of ${LONG}; sampling stopped`)) ?? '';
    const [, arrived, stopped] = /cancel arrived after step (\d+) of \d+; sampling stopped after step (\d+)/.exec(line) ?? [];
    expect(Number(stopped) - Number(arrived), line).toBeLessThanOrEqual(1);
    expect(Math.max(...steps)).toBe(Number(stopped));
  });

  it('mige-playground --redis serves on the queue and says so', async () => {
    const root = fileURLToPath(new URL('..', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/server/main.ts', '--model', 'mige-tiny', '--port', '0', '--redis', redis.url, '--queue', queue], {
      cwd: root,
      env: { ...process.env, MIGE_MODEL: '', MIGE_BACKEND: 'wasm' },
    });
    let out = '';
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('Ctrl+C')) resolve();
      });
      child.on('close', () => reject(new Error(`exited early: ${out}`)));
    });
    expect(out).toMatch(new RegExp(`jobs: on the workers of queue ${queue} at redis://127\\.0\\.0\\.1:\\d+`));
    const url = /MIGE playground: (http:\/\/\S+)/.exec(out)?.[1] ?? '';
    expect((await fetch(new URL('api/info', url))).status).toBe(200);
    const code = await new Promise<number | null>((resolve) => {
      child.removeAllListeners('close');
      child.on('close', (c, sig) => resolve(c ?? (sig as never)));
      child.kill('SIGTERM');
    });
    expect(code, out).toBe(0);
  });
});
