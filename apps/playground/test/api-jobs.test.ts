import { decodeImage } from '@mige/core';
import type { MigeModel } from '@mige/pipelines';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, parseEventStream } from '../src/server/index.js';
import type { InfoResponse, JobAccepted, JobEvent, JobStatus } from '../src/api/api-types.js';
import { eventually, openEvents, tinyModel } from './helpers.js';

/** Long enough that a job is still running when the test acts on it; it is always cancelled. */
const LONG = 1000;

describe('playground API: jobs, queue, events and cancellation', () => {
  let model: MigeModel;
  let app: FastifyInstance;
  let base: string;
  let info: InfoResponse;
  beforeAll(async () => {
    model = await tinyModel();
    app = await createServer({ model, limits: { maxSteps: LONG, maxQueue: 2 }, previewEvery: 2 });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
    info = (await app.inject({ method: 'GET', url: '/api/info' })).json<InfoResponse>();
  });
  afterAll(async () => {
    await app.close();
    model.dispose();
  });

  const editExample = () => info.presets.find((p) => p.id === 'edit')?.examples[0];
  const submit = async (steps: number, extra: Record<string, unknown> = {}) => {
    const ex = editExample();
    const res = await app.inject({ method: 'POST', url: '/api/jobs', payload: { flow: 'edit', instruction: ex?.instruction, images: ex?.images, steps, ...extra } });
    expect(res.statusCode, res.body).toBe(202);
    return res.json<JobAccepted>();
  };
  const status = async (id: string) => (await app.inject({ method: 'GET', url: `/api/jobs/${id}` })).json<JobStatus>();

  it('runs an edit: progress every step, previews every 2 steps, then the images and their parameters', async () => {
    const { id, position } = await submit(4, { seed: 3, numImages: 2, scales: { y: 4.5, s: 1.5 }, sampler: 'ddim' });
    expect(position).toBe(0);
    // inject reads the whole stream: it ends after the final event.
    const events = parseEventStream((await app.inject({ method: 'GET', url: `/api/jobs/${id}/events` })).body);
    const types = events.map((e) => e.type);
    expect(types.at(-1)).toBe('done');
    // Subscribing after the start replays the latest progress first.
    const progress = events.filter((e): e is Extract<JobEvent, { type: 'progress' }> => e.type === 'progress');
    expect(progress.at(-1)).toEqual({ type: 'progress', step: 4, total: 4 });
    const done = events.at(-1) as Extract<JobEvent, { type: 'done' }>;
    expect(done.images).toHaveLength(2);
    const [a, b] = await Promise.all(done.images.map((url) => decodeImage(Buffer.from(url.split(',')[1] ?? '', 'base64'))));
    expect([a?.width, a?.height]).toEqual([32, 32]);
    expect(Buffer.from(a?.data ?? []).equals(Buffer.from(b?.data ?? []))).toBe(false);
    expect(done.params.map((p) => p.seed)).toEqual([3, 4]);
    expect(done.params[0]).toMatchObject({ flow: 'edit', model: 'mige-tiny', steps: 4, scales: { y: 4.5, s: 1.5 }, sampler: { type: 'ddim', eta: 0 }, size: 32, instruction: editExample()?.instruction });
    // A client that polls gets the final event with the status.
    expect(await status(id)).toEqual({ id, state: 'done', position: null, result: done });
  });

  it('streams live: queued, progress 1..n, previews every 2 steps, done, and a late subscriber gets the result', async () => {
    // A job ahead of it holds it in the queue until the stream is open.
    const blocker = await submit(LONG);
    const { id, position } = await submit(4, { flow: 'compose', ...addExample() });
    expect(position).toBe(1);
    const stream = await openEvents(base, id);
    await app.inject({ method: 'DELETE', url: `/api/jobs/${blocker.id}` });
    await stream.ended;
    expect(stream.events.slice(0, 2)).toEqual([
      { type: 'queued', position: 1 },
      { type: 'queued', position: 0 },
    ]);
    const types = stream.events.map((e) => e.type);
    expect(types.filter((t) => t === 'progress').length).toBeGreaterThanOrEqual(4);
    expect(stream.events.filter((e) => e.type === 'preview').map((e) => (e as { step: number }).step)).toEqual([2, 4]);
    expect(types.at(-1)).toBe('done');
    const late = parseEventStream((await app.inject({ method: 'GET', url: `/api/jobs/${id}/events` })).body);
    expect(late.map((e) => e.type)).toEqual(['progress', 'done']);
  });

  function addExample() {
    const ex = info.presets.find((p) => p.id === 'add')?.examples[0];
    return { instruction: ex?.instruction, images: ex?.images, sourceSlot: ex?.sourceSlot };
  }

  it('queues FIFO with positions, cancels waiting and running jobs with DELETE, and refuses a full queue', async () => {
    const first = await submit(LONG);
    const firstEvents = await openEvents(base, first.id);
    await firstEvents.waitFor((e) => e.type === 'progress' && e.step >= 1);
    const second = await submit(LONG);
    const third = await submit(3);
    expect([first.position, second.position, third.position]).toEqual([0, 1, 2]);
    const full = await app.inject({ method: 'POST', url: '/api/jobs', payload: { flow: 'edit', instruction: editExample()?.instruction, images: editExample()?.images } });
    expect(full.statusCode).toBe(429);
    expect(full.json<{ error: string }>().error).toMatch(/the queue is full \(2 jobs waiting\)/);

    const thirdEvents = await openEvents(base, third.id);
    expect(thirdEvents.events[0]).toEqual({ type: 'queued', position: 2 });
    // Cancelling a waiting job moves the ones behind it up.
    const del = await app.inject({ method: 'DELETE', url: `/api/jobs/${second.id}` });
    expect(del.json()).toEqual({ id: second.id, state: 'cancelled', position: null, result: { type: 'cancelled', reason: 'cancelled by the user' }, cancelled: true });
    await thirdEvents.waitFor((e) => e.type === 'queued' && e.position === 1);
    expect(await status(third.id)).toEqual({ id: third.id, state: 'queued', position: 1 });

    // Cancelling the running job stops it within a step; the next one starts.
    await app.inject({ method: 'DELETE', url: `/api/jobs/${first.id}` });
    const cancelled = await firstEvents.waitFor((e) => e.type === 'cancelled');
    expect(cancelled).toEqual({ type: 'cancelled', reason: 'cancelled by the user' });
    const lastStep = Math.max(...firstEvents.events.map((e) => (e.type === 'progress' ? e.step : 0)));
    expect(lastStep).toBeLessThan(LONG);
    await firstEvents.ended;
    expect((await thirdEvents.waitFor((e) => e.type === 'done')).type).toBe('done');
    expect(thirdEvents.events.some((e) => e.type === 'queued' && e.position === 0)).toBe(true);
    // A finished job cannot be cancelled again.
    expect((await app.inject({ method: 'DELETE', url: `/api/jobs/${first.id}` })).json()).toMatchObject({ state: 'cancelled', cancelled: false });
  });

  it('cancels a job whose event stream disconnects, and runs the next one', async () => {
    const job = await submit(LONG);
    const next = await submit(2);
    expect(next.position).toBe(1);
    const stream = await openEvents(base, job.id);
    await stream.waitFor((e) => e.type === 'progress' && e.step >= 2);
    stream.disconnect();
    await eventually(async () => ((await status(job.id)).state === 'cancelled' ? true : undefined), 20_000, 'the disconnected job to be cancelled');
    const events = parseEventStream((await app.inject({ method: 'GET', url: `/api/jobs/${job.id}/events` })).body);
    expect(events.at(-1)).toEqual({ type: 'cancelled', reason: 'the client disconnected' });
    // The next job was not cancelled with it (nobody subscribed to it yet).
    const nextEvents = parseEventStream((await app.inject({ method: 'GET', url: `/api/jobs/${next.id}/events` })).body);
    expect(nextEvents.at(-1)?.type).toBe('done');
  });

  it('keeps a job submitted with cancelOnDisconnect: false running when its stream drops; a poll then gets the result', async () => {
    const job = await submit(6, { cancelOnDisconnect: false });
    const stream = await openEvents(base, job.id);
    await stream.waitFor((e) => e.type === 'progress' && e.step >= 1);
    stream.disconnect();
    const finished = await eventually(async () => {
      const s = await status(job.id);
      return s.state === 'running' || s.state === 'queued' ? undefined : s;
    }, 60_000, 'the job to finish');
    expect(finished.state).toBe('done');
    expect(finished.result?.type).toBe('done');
    const bad = await app.inject({ method: 'POST', url: '/api/jobs', payload: { flow: 'edit', instruction: editExample()?.instruction, images: editExample()?.images, cancelOnDisconnect: 'no' } });
    expect([bad.statusCode, bad.json<{ error: string }>().error]).toEqual([400, 'cancelOnDisconnect must be true or false, got "no"']);
  });

  it('runs compose with a source outside the instruction (the source field)', async () => {
    const ex = addExample();
    const slot = ex.sourceSlot ?? 0;
    const subject = ex.images?.[1 - slot];
    const { id } = await submit(2, { flow: 'compose', instruction: 'put <imagehere> next to the circle', images: [subject], source: ex.images?.[slot], sourceSlot: undefined });
    const events = parseEventStream((await app.inject({ method: 'GET', url: `/api/jobs/${id}/events` })).body);
    const done = events.at(-1) as Extract<JobEvent, { type: 'done' }>;
    expect(done.type).toBe('done');
    expect(done.params[0]).toMatchObject({ flow: 'compose', guidance: 'edit', steps: 2, instruction: 'put <imagehere> next to the circle' });
  });
});
